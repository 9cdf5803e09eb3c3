"""Twilio's Messaging API: a small REST client (:mod:`.client`) and a strict local emulator (:mod:`.emulator`)."""
