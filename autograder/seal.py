"""A copy of rnnkit without the reference of the assignment being graded.

While an assignment is graded, the kernel's rnnkit is this copy, mounted over the real
package in the sandbox (or first on PYTHONPATH under --no-sandbox): the modules keep
every name, so the notebook's imports work, but each function or class that implements
one of the assignment's exercises, or is built on one, is a stub that raises
``rnnkit.ReferenceUnavailable``. The copy holds no source of what it seals.

What is sealed, per assignment: the modules and functions of ``SEALED`` (the references
of its exercises, with their private helpers, since a helper can reproduce its exercise
as well as the function can), every ``reference_*`` of rnnkit.checks, and, to a fixed
point, every top-level function or class of rnnkit that refers by name to something
sealed (a layer, a model, a variant, a widget, a check built on it).

    package = build("04-lstm", folder)      # folder/rnnkit, ready to mount
"""
import ast
import functools
import shutil
from pathlib import Path

import rnnkit

PACKAGE = Path(rnnkit.__file__).resolve().parent

# module (relative to the package) -> None for the whole module, or the names to seal
SEALED = {
    # the LSTM, the GRU, the loss, the layers and the sampler compute sigmoids and softmaxes inline
    "01-rnn-basics": {"activations.py": None, "rnn.py": None, "lstm.py": None, "gru.py": None, "loss.py": None,
                      "layers.py": None, "sampling.py": None},
    "02-bptt": {"rnn.py": ("rnn_step_backward", "rnn_backward"), "loss.py": None,
                "gradcheck.py": ("check_gradients", "worst_error")},
    # global_norm and clip_grad_value stay: the notebook measures and clips by value with them
    "03-gradient-problems": {"clip.py": ("clip_grad_norm",),
                             "rnn.py": ("rnn_backward", "rnn_step_backward")},
    "04-lstm": {"lstm.py": None},
    "05-gru": {"gru.py": None},
    "06-variants": {"variants/bidirectional.py": None, "variants/stacked.py": None,
                    "variants/residual.py": None, "variants/attention.py": None},
    "07-applications": {"sampling.py": None, "clip.py": None, "data.py": ("sliding_windows",),
                        "checks/applications.py": ("reference_lm_train_step", "lm_loss_and_grads")},
}


def _modules(package):
    return {str(p.relative_to(package)): p for p in sorted(package.rglob("*.py")) if "__pycache__" not in p.parts}


def _definitions(tree):
    """{name: node} of a module's top-level functions and classes."""
    return {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def _target(rel, node, modules):
    """The module (a key of ``modules``) that an ``ImportFrom`` inside module ``rel`` names."""
    if node.level == 0:
        parts = (node.module or "").split(".")
        if parts[0] != "rnnkit":
            return None
        parts = parts[1:]
    else:
        package = rel.split("/")[:-1]
        if node.level > 1:
            package = package[:len(package) - (node.level - 1)]
        parts = package + (node.module.split(".") if node.module else [])
    for candidate in ("/".join(parts) + ".py", "/".join(parts + ["__init__.py"])):
        if candidate.lstrip("/") in modules:
            return candidate.lstrip("/")
    return None


def _imports(rel, tree, modules):
    """{local name: (module, name)} of a module's imports from rnnkit (``from . import x`` included)."""
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            where = _target(rel, node, modules)
            if where is None:
                continue
            for alias in node.names:
                out[alias.asname or alias.name] = (where, alias.name)
    return out


def _resolve(key, defs, imports, depth=0):
    """Follow re-exports: the (module, name) where the name ``key`` = (module, name) is defined."""
    rel, name = key
    if name in defs.get(rel, {}) or depth > 8:
        return key
    if name in imports.get(rel, {}):
        return _resolve(imports[rel][name], defs, imports, depth + 1)
    return key


def _references(rel, node, defs, imports):
    """What a definition refers to: (module, name) for names, the bare name for public attributes."""
    keys, attributes = set(), set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            if sub.id in defs[rel]:
                keys.add((rel, sub.id))
            elif sub.id in imports[rel]:
                keys.add(_resolve(imports[rel][sub.id], defs, imports))
        elif isinstance(sub, ast.Attribute) and not sub.attr.startswith("_"):
            attributes.add(sub.attr)
    return keys, attributes


def sealed_definitions(assignment, package=PACKAGE):
    """{module path: set of names} that ``build`` replaces with stubs for ``assignment``."""
    if assignment not in SEALED:
        raise KeyError(f"no seal is defined for the assignment {assignment!r}")
    modules = _modules(package)
    trees = {rel: ast.parse(path.read_text(encoding="utf-8")) for rel, path in modules.items()}
    defs = {rel: _definitions(tree) for rel, tree in trees.items()}
    imports = {rel: _imports(rel, tree, modules) for rel, tree in trees.items()}
    sealed = set()
    for rel, names in SEALED[assignment].items():
        sealed |= {(rel, n) for n in (defs[rel] if names is None else names)}
    for rel in trees:
        if rel.startswith("checks/"):
            sealed |= {(rel, n) for n in defs[rel] if n.startswith("reference_")}
    refs = {(rel, name): _references(rel, node, defs, imports)
            for rel, table in defs.items() for name, node in table.items()}
    changed = True
    while changed:
        changed = False
        public = {name for _, name in sealed if not name.startswith("_")}
        for key, (keys, attributes) in refs.items():
            if key not in sealed and (keys & sealed or attributes & public):
                sealed.add(key)
                changed = True
    out = {}
    for rel, name in sealed:
        out.setdefault(rel, set()).add(name)
    return out


def _module_level(tree, names):
    """Line spans of top-level statements (not definitions) that use a sealed name at import time."""
    spans = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)):
            continue
        used = {sub.id for sub in ast.walk(node) if isinstance(sub, ast.Name)}
        if used & names:
            targets = []
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    targets += [n.id for n in ast.walk(t) if isinstance(n, ast.Name)]
            spans.append((node.lineno, node.end_lineno, targets))
    return spans


@functools.lru_cache(maxsize=None)
def sealed_functions(assignment):
    """The dotted names (``rnnkit.module.name``) that the sealed copy for ``assignment`` stubs."""
    if assignment not in SEALED:
        return frozenset()
    return frozenset(_dotted(rel, name) for rel, names in sealed_definitions(assignment).items() for name in names)


def _dotted(rel, name):
    return "rnnkit." + rel[:-3].replace("/", ".").removesuffix(".__init__") + "." + name


def _stub(node, dotted, assignment):
    doc = ast.get_docstring(node)
    lines = []
    if isinstance(node, ast.ClassDef):
        lines.append(f"class {node.name}(metaclass=__import__('rnnkit._sealed', fromlist=['_']).SealedMeta):")
        if doc:
            lines.append(f"    {doc!r}")
        lines.append(f"    _sealed_for = {assignment!r}")
        lines.append("    def __init__(self, *args, **kwargs):")
        lines.append(f"        raise __import__('rnnkit._sealed', fromlist=['_']).unavailable({dotted!r}, {assignment!r})")
    else:
        lines.append(f"def {node.name}(*args, **kwargs):")
        if doc:
            lines.append(f"    {doc!r}")
        lines.append(f"    raise __import__('rnnkit._sealed', fromlist=['_']).unavailable({dotted!r}, {assignment!r})")
    return lines


def _rewrite(source, names, module, assignment):
    tree = ast.parse(source)
    lines = source.splitlines()
    spans = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in names:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            spans.append((first, node.end_lineno, _stub(node, f"{module}.{node.name}", assignment)))
    # a table built at import time from sealed functions becomes a value that raises when used
    for first, last, targets in _module_level(tree, names):
        spans.append((first, last, [f"{t} = __import__('rnnkit._sealed', fromlist=['_']).SealedValue("
                                    f"{module + '.' + t!r}, {assignment!r})" for t in targets] or ["pass"]))
    for first, last, stub in sorted(spans, reverse=True):
        lines[first - 1:last] = stub
    return "\n".join(lines) + "\n"


def build(assignment, folder, package=PACKAGE):
    """Write the sealed copy of rnnkit for ``assignment`` to ``folder/rnnkit``; return its path."""
    target = Path(folder) / "rnnkit"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(package, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for rel, names in sealed_definitions(assignment, package).items():
        path = target / rel
        module = _dotted(rel, "")[:-1]
        path.write_text(_rewrite(path.read_text(encoding="utf-8"), names, module, assignment), encoding="utf-8")
    marker = target / "_sealed.py"
    marker.write_text(marker.read_text(encoding="utf-8").replace("\nSEALED_FOR = None\n",
                                                                  f"\nSEALED_FOR = {assignment!r}\n"),
                      encoding="utf-8")
    for path in [target, *target.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


__all__ = ["SEALED", "PACKAGE", "build", "sealed_definitions", "sealed_functions"]
