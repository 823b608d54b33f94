import init, { SseClient } from "pushwire-client";
import wasmUrl from "pushwire-client/pushwire_client_bg.wasm?url";
import { countTo3 } from "./counter.js";

await init({ module_or_path: wasmUrl });
countTo3(SseClient);
