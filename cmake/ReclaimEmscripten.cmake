# Settings for Debian's Emscripten 3.1.6.
#
# Exceptions are off by default in Emscripten; the JSON library and the test
# framework throw, so they are enabled for compiling and linking.
add_compile_options(-fexceptions)
add_link_options(-fexceptions -sALLOW_MEMORY_GROWTH=1)

if(NOT DEFINED ENV{NODE_PATH})
  message(WARNING "NODE_PATH is not set: Emscripten's optimiser needs NODE_PATH=/usr/share/nodejs")
endif()

find_program(RECLAIM_NODE node REQUIRED)
