# SPDX-License-Identifier: MIT
# Project-wide warnings (STYLE 3.8). -Werror is on unless GH_WERROR=OFF.
add_compile_options(
  -Wall -Wextra -Wshadow -Wformat=2 -Wvla -Wstrict-prototypes
  -Wmissing-prototypes -Wimplicit-fallthrough -Wno-unused-parameter)
if(GH_WERROR)
  add_compile_options(-Werror)
endif()
