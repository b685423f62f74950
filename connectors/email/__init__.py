"""E-mail channel: IMAP and raw-MIME inbound, SMTP outbound, threading, loop guard, bounces."""
