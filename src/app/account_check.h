#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace sas::app {

// One row of --check.accounts: an account, where its credentials came from,
// and what one DescribeExportInfo call with them answered.
struct AccountCheck {
  std::string account;
  std::string provider;
  std::string endpoint;
  std::string result;  // "ok", "credentials failed", ...
  std::string code;    // the error code; empty when the check passed
  std::string message;
};

// Prints the rows as an aligned table with a header line:
//   ACCOUNT  PROVIDER  ENDPOINT  RESULT  CODE  MESSAGE
void PrintAccountChecks(const std::vector<AccountCheck>& rows,
                        std::ostream& out);

}  // namespace sas::app
