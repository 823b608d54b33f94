// The workaround of client-wasm/README.md ("Bundlers"): Vite 7's dev server
// must not pre-bundle pushwire-client, or the glue loses the .wasm beside it.
export default {
  optimizeDeps: { exclude: ["pushwire-client"] },
};
