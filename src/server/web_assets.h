// The viewer's files (web/), compiled into the binary by web/embed.cmake, so `/` works offline with no files beside
// the executable.
#pragma once

#include <cstddef>
#include <string_view>

namespace ts::server {

struct WebAsset {
  std::string_view path;  // "/index.html", "/app.js", ...
  std::string_view mime;
  std::string_view data;
};

// The asset served at `path` ("/" is /index.html); null when there is none.
const WebAsset* find_web_asset(std::string_view path);

}  // namespace ts::server
