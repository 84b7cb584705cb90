# One ctest entry per Catch2 test case (tests/CMakeLists.txt; docs/reliability.md, "The ctest entries").
# After every link of TARGET, cmake/CatchTestsAdd.cmake lists its test cases (`--list-test-names-only`) and
# writes one add_test per case into the build tree, which ctest includes:
#   label `model` for the cases tagged [sim] (they simulate), `unit` for all others;
#   COST from tests/ci_costs.txt (seconds measured in a Release build; unknown cases get the label's default),
#   so that ctest -j starts the slow cases first on a clean clone (later runs use ctest's own cost history).
# Every entry runs with `-w NoTests`: a name that no longer selects its case fails instead of passing empty.
set(TRAINSIM_CATCH_ADD_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/CatchTestsAdd.cmake)

function(trainsim_catch_tests target costs)
  set(entries "${CMAKE_CURRENT_BINARY_DIR}/${target}_entries.cmake")
  set(include_file "${CMAKE_CURRENT_BINARY_DIR}/${target}_include.cmake")
  add_custom_command(TARGET ${target} POST_BUILD BYPRODUCTS ${entries}
    COMMAND ${CMAKE_COMMAND} -DEXE=$<TARGET_FILE:${target}> -DOUT=${entries} -DCOSTS=${costs}
            -P ${TRAINSIM_CATCH_ADD_SCRIPT}
    VERBATIM)
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${costs})
  file(WRITE ${include_file}
    "if(EXISTS \"${entries}\")\n  include(\"${entries}\")\nelse()\n"
    "  add_test(${target}_NOT_BUILT ${target}_NOT_BUILT)\nendif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${include_file})
endfunction()
