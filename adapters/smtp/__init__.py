"""A local SMTP sink (``aiosmtpd``) for sandbox mode: mail the gateway sends stays on this machine."""
