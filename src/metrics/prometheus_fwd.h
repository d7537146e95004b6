#pragma once

// The prometheus-cpp types the metric classes name in their headers,
// declared without pulling prometheus-cpp's templates into every includer.
namespace prometheus {
class Registry;
template <typename T>
class Family;
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus
