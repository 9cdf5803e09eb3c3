"""voicepay-gateway: a PCI-aware payment gateway orchestrator for AI voice agents."""

__version__ = "0.1.0"
