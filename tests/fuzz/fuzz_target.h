#pragma once

// One fuzz target per .cc file, written once and built two ways:
//  - SAS_FUZZ builds (clang, `make fuzz`): each file is its own libFuzzer
//    program; SAS_FUZZ_TARGET defines LLVMFuzzerTestOneInput.
//  - every other build: all files go into one program, fuzz_corpus_replay,
//    which runs the files of tests/fuzz/corpus/<target>/ through the target
//    named on its command line (CTest: fuzz_corpus.<target>), so each input
//    kept in a corpus is a regression test of `make test`.
//
//   SAS_FUZZ_TARGET(web_config) {
//     std::string_view text = AsText(data, size);
//     ...
//     SAS_FUZZ_CHECK(ok || !error.empty(), "a failure says why");
//   }
//
// The body sees `data` and `size` and returns nothing. A broken invariant is
// reported with SAS_FUZZ_CHECK, which aborts: libFuzzer saves the input,
// the replay program fails its CTest entry.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sas::fuzz {

using TargetFunction = void (*)(const uint8_t* data, size_t size);

// Adds a target to fuzz_corpus_replay's table; returns true.
bool RegisterTarget(const char* name, TargetFunction function);

// Prints "fuzz check failed: <what> (<file>:<line>)" to stderr and aborts.
[[noreturn]] void CheckFailed(const char* what, const char* file, int line);

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace sas::fuzz

#define SAS_FUZZ_CHECK(condition, what)                   \
  do {                                                    \
    if (!(condition)) {                                   \
      ::sas::fuzz::CheckFailed(what, __FILE__, __LINE__); \
    }                                                     \
  } while (false)

#ifdef SAS_LIBFUZZER
#define SAS_FUZZ_ENTRY(name)                                                \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { \
    SasFuzzTarget_##name(data, size);                                       \
    return 0;                                                               \
  }
#else
#define SAS_FUZZ_ENTRY(name)                                      \
  [[maybe_unused]] static const bool sas_fuzz_registered_##name = \
      ::sas::fuzz::RegisterTarget(#name, &SasFuzzTarget_##name);
#endif

#define SAS_FUZZ_TARGET(name)                                            \
  static void SasFuzzTarget_##name(const uint8_t* data, size_t size);    \
  SAS_FUZZ_ENTRY(name)                                                   \
  static void SasFuzzTarget_##name([[maybe_unused]] const uint8_t* data, \
                                   [[maybe_unused]] size_t size)
