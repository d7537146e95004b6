#pragma once

#include <string>
#include <utility>

#include "aliyun/credentials.h"

namespace sas::testing {

// Answers the same credentials forever; Refresh() answers them too. For
// tests of code that signs with a CredentialsProvider. Thread-safe.
class StaticCredentialsProvider : public aliyun::CredentialsProvider {
 public:
  StaticCredentialsProvider(aliyun::Credentials credentials, std::string type)
      : credentials_(std::move(credentials)), type_(std::move(type)) {}
  aliyun::CredentialsResult Get() override { return {credentials_, "", ""}; }
  std::string Type() const override { return type_; }

 private:
  const aliyun::Credentials credentials_;
  const std::string type_;
};

}  // namespace sas::testing
