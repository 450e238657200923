# Helpers that give every Cairn target the same flags.

set(CAIRN_WARNINGS -Wall -Wextra -Werror -Wno-missing-field-initializers)
if(CAIRN_FUZZ)
  # Fuzz builds use clang-14, whose warning set differs from g++'s: g++ builds enforce -Werror.
  set(CAIRN_WARNINGS -Wall -Wextra -Wno-missing-field-initializers)
endif()

function(cairn_apply_flags target)
  target_compile_options(${target} PRIVATE ${CAIRN_WARNINGS})
  if(CAIRN_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
  if(CAIRN_TSAN)
    # ThreadSanitizer does not model std::atomic_thread_fence (g++ refuses it under -Werror), which
    # Asio's fenced blocks use around handlers; Asio's own mutexes order its handlers anyway.
    target_compile_definitions(${target} PRIVATE BOOST_ASIO_DISABLE_FENCED_BLOCK)
    target_compile_options(${target} PRIVATE -fsanitize=thread -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=thread)
  endif()
  if(CAIRN_FUZZ)
    # UBSan is left to the g++ debug build: clang-14 miscompiles coroutines under -fsanitize=undefined
    # ("Cannot represent a difference across sections").
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link,address)
  endif()
endfunction()

# cairn_library(NAME <name> SOURCES ... DEPS ...): a static library `cairn_<name>` with the one
# include root src/. DEPS are the only libraries it may use (layering is enforced by link lists).
function(cairn_library)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_library(cairn_${ARG_NAME} STATIC ${ARG_SOURCES})
  target_include_directories(cairn_${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(cairn_${ARG_NAME} PUBLIC ${ARG_DEPS})
  cairn_apply_flags(cairn_${ARG_NAME})
  set_property(GLOBAL APPEND PROPERTY CAIRN_ALL_LIBRARIES cairn_${ARG_NAME})
endfunction()

# cairn_test(NAME <name> SOURCES ... DEPS ... [LABELS unit|integration|interop|slow] [TIMEOUT s])
function(cairn_test)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  cairn_apply_flags(${ARG_NAME})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME})
  set_tests_properties(${ARG_NAME} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "CAIRN_SOURCE_DIR=${PROJECT_SOURCE_DIR};CAIRN_BINARY=${PROJECT_BINARY_DIR}/cairn")
endfunction()
