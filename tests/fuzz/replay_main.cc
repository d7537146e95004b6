// fuzz_corpus_replay: runs kept inputs through the fuzz targets without
// libFuzzer, so any build (GCC included) replays the corpora in `make test`.
//   fuzz_corpus_replay TARGET PATH...   each file, and each file in each
//                                       directory, through TARGET
//   fuzz_corpus_replay --list           the targets, one a line
// Exit status 0 when every input passed; a broken check aborts.

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_target.h"

namespace sas::fuzz {
namespace {

std::map<std::string, TargetFunction>& Targets() {
  static std::map<std::string, TargetFunction> targets;
  return targets;
}

// The regular files named by `paths`, directories expanded (sorted), or
// false with a message when a path does not exist.
bool Inputs(const std::vector<std::string>& paths,
            std::vector<std::filesystem::path>* out) {
  namespace fs = std::filesystem;
  for (const std::string& path : paths) {
    std::error_code error;
    if (fs::is_directory(path, error)) {
      std::vector<fs::path> files;
      for (const fs::directory_entry& entry : fs::directory_iterator(path)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
      out->insert(out->end(), files.begin(), files.end());
    } else if (fs::is_regular_file(path, error)) {
      out->emplace_back(path);
    } else {
      std::fprintf(stderr,
                   "fuzz_corpus_replay: %s: no such file or directory\n",
                   path.c_str());
      return false;
    }
  }
  return true;
}

int Main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--list") {
    for (const auto& [name, function] : Targets()) {
      std::printf("%s\n", name.c_str());
    }
    return 0;
  }
  if (argc < 3) {
    std::fprintf(stderr, "usage: fuzz_corpus_replay TARGET PATH... | --list\n");
    return 2;
  }
  auto target = Targets().find(argv[1]);
  if (target == Targets().end()) {
    std::fprintf(stderr,
                 "fuzz_corpus_replay: unknown target %s (--list names them)\n",
                 argv[1]);
    return 2;
  }
  std::vector<std::filesystem::path> inputs;
  if (!Inputs(std::vector<std::string>(argv + 2, argv + argc), &inputs)) {
    return 2;
  }
  // An empty corpus would make the CTest entry pass while testing nothing.
  if (inputs.empty()) {
    std::fprintf(stderr, "fuzz_corpus_replay: %s: no inputs\n", argv[1]);
    return 1;
  }
  for (const std::filesystem::path& path : inputs) {
    std::ifstream file(path, std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(file)),
                        std::istreambuf_iterator<char>());
    if (!file.good() && !file.eof()) {
      std::fprintf(stderr, "fuzz_corpus_replay: cannot read %s\n",
                   path.c_str());
      return 2;
    }
    // A buffer of exactly the input's size, as libFuzzer passes it, so that
    // AddressSanitizer sees a read past its end.
    std::fprintf(stderr, "%s: %s\n", argv[1], path.c_str());
    auto buffer = std::make_unique<uint8_t[]>(content.size());
    std::copy(content.begin(), content.end(), buffer.get());
    target->second(buffer.get(), content.size());
  }
  std::fprintf(stderr, "fuzz_corpus_replay: %s: %zu inputs passed\n", argv[1],
               inputs.size());
  return 0;
}

}  // namespace

bool RegisterTarget(const char* name, TargetFunction function) {
  Targets().emplace(name, function);
  return true;
}

}  // namespace sas::fuzz

int main(int argc, char** argv) { return sas::fuzz::Main(argc, argv); }
