# SPDX-License-Identifier: MIT
# warnings.cmake - the warning set every Keel C target builds with.
set(KEEL_WARNINGS
    -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes
    -Wvla -Wcast-qual -Wimplicit-fallthrough -Wpointer-arith -Wundef
    -Wno-unused-parameter)
