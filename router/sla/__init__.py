"""SLA: business-hours calendars, policies, the case clock and its timers."""
