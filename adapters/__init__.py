"""Provider adapters: one sub-package per provider, plus shared outcome / resilience types.

Adapters receive plain arguments and return typed results. They never import ``gateway``.
"""
