// The serve page (src/serve/page.html), embedded in the binary at build time.
#pragma once
#include <string>

namespace yamiro::serve {

// The whole page: HTML with its CSS and JavaScript inline; it loads nothing from elsewhere.
const std::string& page_html();

}  // namespace yamiro::serve
