# Settings for Debian's Emscripten 3.1.6.
#
# Exceptions are off by default in Emscripten; the JSON library and the test
# framework throw, so they are enabled for compiling and linking.
add_compile_options(-fexceptions)
add_link_options(-fexceptions -sALLOW_MEMORY_GROWTH=1)

# Bulk memory operations turn memcpy and memset into single WebAssembly
# instructions; the CSV export runs about twice as fast with them. Node 20
# and every current browser support them.
add_compile_options(-mbulk-memory)
add_link_options(-mbulk-memory)

if(NOT DEFINED ENV{NODE_PATH})
  message(WARNING "NODE_PATH is not set: Emscripten's optimiser needs NODE_PATH=/usr/share/nodejs")
endif()

find_program(RECLAIM_NODE node REQUIRED)
