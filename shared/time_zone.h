// Time zones for showing instants in the viewer's local time and for turning
// local days into UTC ranges.
//
// TimeZone is an interface so the browser client can take offsets from the
// browser's own zone database. PosixTimeZone implements the POSIX TZ rule
// format (the footer of every TZif file, for example
// "CET-1CEST,M3.5.0,M10.5.0/3"), which carries real daylight-saving rules.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "shared/status.h"
#include "shared/time_util.h"

namespace reclaim {

class TimeZone {
 public:
  virtual ~TimeZone() = default;
  // Seconds east of UTC in force at the instant `utc` (CET: +3600).
  virtual int OffsetAt(UnixSeconds utc) const = 0;
  // Name for display ("Europe/Berlin", "UTC+01:00").
  virtual std::string Name() const = 0;
};

class FixedTimeZone : public TimeZone {
 public:
  // An empty `name` becomes "UTC" or "UTC+05:30".
  explicit FixedTimeZone(int offset_seconds, std::string name = {});
  int OffsetAt(UnixSeconds) const override { return offset_; }
  std::string Name() const override { return name_; }

 private:
  int offset_;
  std::string name_;
};

class PosixTimeZone : public TimeZone {
 public:
  // Parses `std offset [dst [offset] [,start[/time],end[/time]]]` with rules
  // in the Mm.w.d, Jn and n forms. Without dates, daylight saving follows the
  // US rules M3.2.0,M11.1.0 as in tzcode. `display_name` defaults to the rule
  // text. Errors name `field` and show the bad text and the expected form.
  static Result<std::unique_ptr<PosixTimeZone>> Parse(std::string_view rule,
                                                      std::string display_name = {},
                                                      const std::string& field = "timeZone");
  int OffsetAt(UnixSeconds utc) const override;
  std::string Name() const override;

  struct Rule;  // defined in time_zone.cc
  ~PosixTimeZone() override;

 private:
  PosixTimeZone();
  std::unique_ptr<Rule> rule_;
  std::string name_;
};

// The local civil time at `utc` in `zone`.
CivilTime LocalTime(const TimeZone& zone, UnixSeconds utc);

// The first instant whose local time in `zone` is at or after `local`. When
// `local` falls in a daylight-saving gap this is the end of the gap; when it
// occurs twice (clocks set back) it is the earlier occurrence. Assumes that
// `zone` changes its offset at most once within two days of `local`.
UnixSeconds LocalToUtc(const TimeZone& zone, const CivilTime& local);

}  // namespace reclaim
