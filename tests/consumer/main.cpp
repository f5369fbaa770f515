// The README's minimal consumer: consumer MODEL INPUT OUTPUT upscales INPUT with MODEL (a
// name from the model folders or a path) into OUTPUT, as `yamiro upscale INPUT -o OUTPUT -m
// MODEL` does with its defaults.
#include <yamiro/engine.hpp>
#include <yamiro/error.hpp>
#include <yamiro/io.hpp>
#include <yamiro/model.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: consumer MODEL INPUT OUTPUT\n");
    return 2;
  }
  try {
    const yamiro::Model model = yamiro::load_model(argv[1]);   // Error(Model) when not found
    yamiro::Engine engine(model, yamiro::EngineOptions{});     // device/precision/tile: auto
    const yamiro::Image input = yamiro::read_image(argv[2]);   // Error(Input)
    yamiro::Image output = engine.upscale(input);              // Error(Device/Interrupted)
    yamiro::write_image(std::move(output), argv[3], 95, /*overwrite=*/false);  // Error(Io/Usage)
    std::printf("%s: %dx%d -> %s at x%d on %s\n", argv[2], input.width, input.height, argv[3], engine.scale(),
                engine.setup().device.c_str());
    return 0;
  } catch (const yamiro::Error& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
    return yamiro::exit_code(e.kind());
  }
}
