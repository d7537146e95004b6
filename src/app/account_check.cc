#include "app/account_check.h"

#include <algorithm>
#include <array>
#include <iomanip>
#include <ostream>

namespace sas::app {

void PrintAccountChecks(const std::vector<AccountCheck>& rows,
                        std::ostream& out) {
  using Cells = std::array<const std::string*, 6>;
  auto cells_of = [](const AccountCheck& row) {
    return Cells{&row.account, &row.provider, &row.endpoint,
                 &row.result,  &row.code,     &row.message};
  };
  const AccountCheck header{"ACCOUNT", "PROVIDER", "ENDPOINT",
                            "RESULT",  "CODE",     "MESSAGE"};
  // Every column but the last is padded to its widest cell.
  std::array<size_t, 5> widths{};
  for (const AccountCheck* row : {&header}) {
    Cells cells = cells_of(*row);
    for (size_t i = 0; i < widths.size(); ++i) widths[i] = cells[i]->size();
  }
  for (const AccountCheck& row : rows) {
    Cells cells = cells_of(row);
    for (size_t i = 0; i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], cells[i]->size());
    }
  }
  auto print = [&](const AccountCheck& row) {
    Cells cells = cells_of(row);
    for (size_t i = 0; i < widths.size(); ++i) {
      out << std::left << std::setw(static_cast<int>(widths[i] + 2))
          << *cells[i];
    }
    out << *cells[5] << "\n";
  };
  print(header);
  for (const AccountCheck& row : rows) print(row);
}

}  // namespace sas::app
