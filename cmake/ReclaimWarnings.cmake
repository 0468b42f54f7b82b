# reclaim_set_warnings(target): the project's warning flags for one target.
function(reclaim_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                         -Wnon-virtual-dtor -Wimplicit-fallthrough)
  if(RECLAIM_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
