#include "yamiro/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace yamiro {

void init_logging(int verbosity) {
  auto logger = spdlog::stderr_color_mt("yamiro");
  logger->set_pattern("yamiro: %^%l%$: %v");
  logger->set_level(verbosity < 0 ? spdlog::level::err : verbosity == 0 ? spdlog::level::info : spdlog::level::debug);
  spdlog::set_default_logger(logger);
}

}  // namespace yamiro
