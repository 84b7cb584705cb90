# Sanitizer and fuzzing builds (docs/reliability.md).
#   -DTRAINSIM_SANITIZE=ON  AddressSanitizer + UndefinedBehaviorSanitizer on everything (tools/test --sanitize)
#   -DTRAINSIM_FUZZ=ON      the same plus libFuzzer coverage; clang only (tools/fuzz)
option(TRAINSIM_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(TRAINSIM_FUZZ "Build the libFuzzer target fuzz/scenario_fuzzer (needs clang)" OFF)
if(TRAINSIM_SANITIZE OR TRAINSIM_FUZZ)
  # -g1: line tables only, enough for the sanitizers' symbolized stack traces (file:line), and much less to
  # compile and link than full debug information.
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  string(REGEX REPLACE "(^| )-g( |$)" " -g1 " CMAKE_CXX_FLAGS_RELWITHDEBINFO "${CMAKE_CXX_FLAGS_RELWITHDEBINFO}")
endif()
if(TRAINSIM_SANITIZE AND NOT TRAINSIM_FUZZ)
  # The sanitizer test tree: -O1 compiles about a third faster than -O2 and is what the sanitizers'
  # documentation recommends; the fuzz tree keeps -O2 for executions per second.
  string(REPLACE "-O2" "-O1" CMAKE_CXX_FLAGS_RELWITHDEBINFO "${CMAKE_CXX_FLAGS_RELWITHDEBINFO}")
endif()
if(TRAINSIM_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "TRAINSIM_FUZZ needs clang (configure with -DCMAKE_CXX_COMPILER=clang++); see tools/fuzz")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
