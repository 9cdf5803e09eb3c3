"""Built-in actions. Each module in this package registers its actions on import; ``load_builtin_actions``
imports them all, so adding a module is the only step to add an action."""

from __future__ import annotations

import importlib
import pkgutil

from gateway.actions.base import Action, ActionContext, ActionOutput, ActionRegistry, registry


def load_builtin_actions() -> ActionRegistry:
    for mod in pkgutil.iter_modules(__path__):
        if mod.name != "base" and not mod.name.startswith("_"):
            importlib.import_module(f"{__name__}.{mod.name}")
    return registry


__all__ = ["Action", "ActionContext", "ActionOutput", "ActionRegistry", "load_builtin_actions", "registry"]
