"""Find the project class a saved object names, the way Keras looks for it at load time.

Keras 3 (`serialization_lib._retrieve_class_or_fn`) looks a custom object up by its
`registered_name` in the registry `@register_keras_serializable(package, name)` fills (the key is
"package>name"), or in the `custom_objects` the caller passes (where an unregistered class is found by
the bare name it was saved under). It imports a module by name only for Keras's own packages, so a
custom class that is no longer registered under the saved name loads only through `custom_objects`.
tf-keras 2 does the same for layers (its layer deserializer passes Keras's own layers as the only module
to search, so the saved `module` is never imported); its older `to_json` wrote the registered name as
"Package>Name" in `class_name`, which the walker reads as the registered name.

Objects of Keras's own modules are trusted and not looked up.
"""

from __future__ import annotations

from dataclasses import dataclass

from cfglint.facts import ClassFacts, ModuleFacts
from cfglint.project import ProjectIndex
from cfglint.saved.walker import SavedObject

TRUSTED_PACKAGES = frozenset({"keras", "tf_keras", "tensorflow", "keras_hub", "keras_cv", "keras_nlp"})


@dataclass(frozen=True)
class Found:
    """The class that will be loaded, and a problem with how it is found (None: found as saved)."""

    cls: ClassFacts
    module: ModuleFacts
    problem: str | None = None


@dataclass(frozen=True)
class Missing:
    """No project class answers to the saved object."""

    message: str


Resolution = Found | Missing | None  # None: a built-in or third-party object, not checked


class ProjectClasses:
    """The project's classes by registered name and by class name, plus the index for dotted names."""

    def __init__(self, modules: list[ModuleFacts], index: ProjectIndex) -> None:
        self.index = index
        self.by_registration: dict[str, list[tuple[ClassFacts, ModuleFacts]]] = {}
        self.by_name: dict[str, list[tuple[ClassFacts, ModuleFacts]]] = {}
        self.packages = {module.module.split(".")[0] for module in modules}
        for module in modules:
            for cls in module.classes:
                if cls.registered_as is not None:
                    self.by_registration.setdefault(cls.registered_as, []).append((cls, module))
                self.by_name.setdefault(cls.name, []).append((cls, module))

    def by_module(self, module: str | None, class_name: str) -> tuple[ClassFacts, ModuleFacts] | None:
        """The class `module.class_name`, else the only class of that name in the project."""
        if module:
            found = self.index.lookup_class(f"{module}.{class_name}")
            if found is not None:
                return found
        named = self.by_name.get(class_name, [])
        return named[0] if len(named) == 1 else None

    def resolve(self, saved: SavedObject) -> Resolution:
        if _trusted(saved):
            return None
        registered = saved.registered_name if saved.registered_name and ">" in saved.registered_name else None
        if registered is not None:
            return self._registered(saved, registered)
        found = self.by_module(saved.module, saved.class_name)
        if found is not None:
            return Found(*found)
        if len(self.by_name.get(saved.class_name, ())) > 1:
            return None  # several classes of that name: the `custom_objects` of the caller decide
        if not saved.has_module:
            return None  # tf-keras `to_json` names built-ins bare too: a name we do not know is one of them
        if saved.module is not None and saved.module.split(".")[0] not in self.packages:
            return None  # another library's class: not this project's to check
        where = f"`{saved.module}.{saved.class_name}`" if saved.module else f"`{saved.class_name}`"
        return Missing(f"class {where} is not in the project any more")

    def _registered(self, saved: SavedObject, registered: str) -> Resolution:
        hits = self.by_registration.get(registered)
        if hits:
            return Found(*hits[0])
        found = self.by_module(saved.module, saved.class_name)
        if found is None and len(self.by_name.get(saved.class_name, ())) > 1:
            return None  # several classes of that name, none registered so: which one loads cannot be told
        if found is None:
            return Missing(f"no class is registered as `{registered}` any more, and no class "
                           f"`{saved.class_name}` is in the project")
        cls, module = found
        if cls.registered and cls.registered_as is None:
            return Found(cls, module)  # registered under a name only running the code can tell
        if cls.registered_as is not None:
            return Found(cls, module, f"`{cls.name}` is registered as `{cls.registered_as}` now, not as the "
                                      f"saved `{registered}`: loading fails unless `custom_objects` maps "
                                      f"`{registered}` to it")
        return Found(cls, module, f"`{cls.name}` is no longer registered (saved as `{registered}`): it loads "
                                  f"only with `custom_objects={{{registered!r}: {cls.name}}}`")


def _trusted(saved: SavedObject) -> bool:
    """Keras's own objects (and those of its sibling packages), which the user's code does not define."""
    if saved.module:
        return saved.module.split(".")[0] in TRUSTED_PACKAGES
    return False
