import init, { SseClient } from "pushwire-client";
import { countTo3 } from "./counter.js";

await init();
countTo3(SseClient);
