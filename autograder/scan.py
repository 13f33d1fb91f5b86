"""A static scan of the code a student wrote, for the instructor's review list.

Every code cell that is not one of the instructor's locked cells is parsed (IPython
magics first translated to Python) and its syntax tree searched for code that reaches
for the reference implementation, rewrites modules or builtins, or interferes with how
errors are reported. A finding does not change a grade: it puts the submission on the
list the instructor reviews. Code the scan cannot parse is itself a finding.

    findings = scan_notebook(nb)     # [Finding(cell, line, message), ...]
"""
import ast
import dataclasses

from nbgrader import utils

# module -> why touching it from an answer deserves a look
SUSPECT_MODULES = {
    "rnnkit": "uses the reference implementation rnnkit",
    "builtins": "imports builtins (can rewrite print, AssertionError, ...)",
    "ctypes": "imports ctypes (can rewrite the interpreter's memory)",
    "gc": "imports gc (can reach any object, including the grader's)",
    "inspect": "imports inspect (can reach the callers' frames and globals)",
    "importlib": "imports importlib (can reload or replace modules)",
    "sys": None,  # common and harmless by itself; its dangerous attributes are listed below
    "signal": "imports signal (can ignore interrupts and timeouts)",
    "threading": None,
    "subprocess": "starts processes",
    "socket": "opens network connections",
    "IPython": "imports IPython (can rewrite the kernel's execution machinery)",
    "ipykernel": "imports ipykernel (can rewrite the kernel's execution machinery)",
}

# attribute chains (after resolving import aliases) that rewrite or escape the grading
SUSPECT_ATTRIBUTES = {
    "sys.modules": "touches sys.modules",
    "sys.settrace": "sets a trace function",
    "sys.setprofile": "sets a profile function",
    "sys._getframe": "reaches into the callers' frames",
    "sys.excepthook": "touches sys.excepthook",
    "sys.displayhook": "touches sys.displayhook",
    "sys.stderr": "touches sys.stderr",
    "sys.stdout": "touches sys.stdout",
    "sys.exit": "calls sys.exit",
    "sys.addaudithook": "installs an audit hook",
    "threading.settrace": "sets a thread trace function",
    "os._exit": "calls os._exit",
    "os.kill": "sends signals",
    "os.fork": "forks",
    "os.system": "runs shell commands",
    "os.remove": "deletes files",
    "os.unlink": "deletes files",
    "os.rmdir": "deletes folders",
    "shutil.rmtree": "deletes folders",
    "shutil.move": "moves files",
}

SUSPECT_NAMES = {
    "__builtins__": "touches __builtins__",
    "get_ipython": "uses the IPython shell (can rewrite how cells run)",
    "exec": "calls exec (hides code from review)",
    "eval": "calls eval (hides code from review)",
    "compile": "compiles code at run time",
    "__import__": "imports by name at run time",
    "setattr": "calls setattr (can rewrite a module or class)",
    "delattr": "calls delattr (can delete from a module or class)",
    "globals": "reads or writes the notebook's globals directly",
    "__loader__": "touches the module loader",
}

COMPARISON_HOOKS = {"__array_function__", "__array_ufunc__", "__array__", "__eq__", "__ne__", "__bool__",
                    "__float__", "__len__", "__getattr__", "__getattribute__"}

PROTECTED_EXCEPTIONS = {"AssertionError", "Exception", "BaseException", "CellTimeoutError",
                        "NotImplementedError", "ValueError", "TypeError"}


@dataclasses.dataclass(frozen=True)
class Finding:
    cell: str     # the cell's grade_id, or "cell <index>" for a cell without nbgrader metadata
    line: int
    message: str

    def __str__(self):
        return f"{self.cell}, line {self.line}: {self.message}"


def _python_source(source):
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


class _Visitor(ast.NodeVisitor):
    def __init__(self, aliases, sealed=None):
        self.aliases = aliases  # local name -> module path, shared across the notebook's cells
        self.sealed = sealed    # names of rnnkit sealed for the assignment; None: any use of rnnkit
        self.found = []

    def reference(self, chain):
        """Whether the dotted rnnkit ``chain`` reaches a reference sealed for the assignment."""
        return self.sealed is None or any(part in self.sealed for part in chain.split(".")[1:])

    def add(self, node, message):
        self.found.append((getattr(node, "lineno", 0), message))

    def dotted(self, node):
        """'numpy.testing.assert_allclose' for np.testing.assert_allclose, else None."""
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        root = self.aliases.get(node.id, node.id)
        return ".".join([root, *reversed(parts)])

    def _module(self, node, name):
        top = name.split(".")[0]
        if top == "rnnkit":
            if self.sealed is None:
                self.add(node, f"imports the reference implementation: {name}")
        elif top in SUSPECT_MODULES and SUSPECT_MODULES[top]:
            self.add(node, SUSPECT_MODULES[top])

    def visit_Import(self, node):
        for alias in node.names:
            self.aliases[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
            self._module(node, alias.name)

    def visit_ImportFrom(self, node):
        module = node.module or ""
        for alias in node.names:
            self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
            full = f"{module}.{alias.name}"
            if full in SUSPECT_ATTRIBUTES:
                self.add(node, SUSPECT_ATTRIBUTES[full])
            if module.split(".")[0] == "rnnkit" and self.sealed is not None and self.reference(full):
                self.add(node, f"imports the reference implementation: {full}")
        self._module(node, module)

    def _target(self, target):
        if isinstance(target, (ast.Attribute, ast.Subscript)):
            base = target.value if isinstance(target, ast.Subscript) else target
            chain = self.dotted(base)
            if chain is not None:
                root = chain.split(".")[0]
                imported = root in self.aliases.values() or root in SUSPECT_MODULES or root in (
                    "numpy", "os", "math")
                if imported and chain not in ("__main__",):
                    self.add(target, f"assigns to {chain} (rewrites a module)")
        elif isinstance(target, ast.Name) and target.id in PROTECTED_EXCEPTIONS | {"print", "__builtins__"}:
            self.add(target, f"redefines {target.id}")
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._target(element)

    def visit_Assign(self, node):
        for target in node.targets:
            self._target(target)
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        self._target(node.target)
        self.generic_visit(node)

    def visit_Delete(self, node):
        for target in node.targets:
            self._target(target)

    def visit_ClassDef(self, node):
        if node.name in PROTECTED_EXCEPTIONS:
            self.add(node, f"redefines {node.name}")
        self.generic_visit(node)

    def visit_FunctionDef(self, node):
        if node.name in PROTECTED_EXCEPTIONS | {"print"}:
            self.add(node, f"redefines {node.name}")
        if node.name in COMPARISON_HOOKS:
            self.add(node, f"defines {node.name} (an answer can fool the checks by overriding comparisons)")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Global(self, node):
        self.add(node, f"declares global {', '.join(node.names)}")

    def visit_Attribute(self, node):
        chain = self.dotted(node)
        if chain is not None:
            for attribute, message in SUSPECT_ATTRIBUTES.items():
                if chain == attribute or chain.startswith(attribute + "."):
                    self.add(node, message)
                    break
            else:
                if chain.split(".")[0] == "rnnkit" and isinstance(node.value, ast.Name) and self.reference(chain):
                    self.add(node, f"uses the reference implementation: {chain}")
            if node.attr in ("f_globals", "f_locals", "f_back", "__globals__", "__code__", "__dict__",
                             "__class__", "__subclasses__", "__closure__"):
                self.add(node, f"reaches for {node.attr} (another function's or frame's internals)")
        self.generic_visit(node)

    def visit_Name(self, node):
        if node.id in SUSPECT_NAMES:
            self.add(node, SUSPECT_NAMES[node.id])
        elif (self.aliases.get(node.id, "").split(".")[0] == "rnnkit" and isinstance(node.ctx, ast.Load)
              and self.reference(self.aliases[node.id])):
            self.add(node, f"uses the reference implementation: {self.aliases[node.id]}")

    def visit_Call(self, node):
        for arg in node.args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and "rnnkit" in arg.value:
                self.add(node, "passes the name rnnkit to a call (an import by name?)")
        self.generic_visit(node)

    def visit_Constant(self, node):
        if isinstance(node.value, str) and node.value.startswith("/") and len(node.value) > 1 \
                and "\n" not in node.value:
            self.add(node, f"names a path outside its folder ({node.value[:60]})")


def scan_source(source, label, aliases=None, sealed=None):
    """Findings in one cell's source; ``aliases`` carries imports across cells.

    sealed: the rnnkit names that are the assignment's reference (seal.py); only their use
    is reported, not that of the helpers the notebook tells the student to use. None
    reports any use of rnnkit.
    """
    aliases = {} if aliases is None else aliases
    try:
        tree = ast.parse(_python_source(source))
    except (SyntaxError, ValueError) as exc:
        return [Finding(label, getattr(exc, "lineno", 0) or 0, f"cannot be parsed ({exc.msg if hasattr(exc, 'msg') else exc})")]
    visitor = _Visitor(aliases, sealed)
    visitor.visit(tree)
    seen = set()
    out = []
    for line, message in sorted(visitor.found):
        if (line, message) not in seen:
            seen.add((line, message))
            out.append(Finding(label, line, message))
    return out


def sealed_names(assignment):
    """The rnnkit names sealed while ``assignment`` is graded, or None for a course seal.py does not know."""
    from . import seal

    if assignment not in seal.SEALED:
        return None
    # the seal's own cached list, which the grading worker reads too
    return frozenset(dotted.rsplit(".", 1)[1] for dotted in seal.sealed_functions(assignment))


def scan_notebook(nb, released=None, source=None, assignment=None):
    """Findings in the student-written cells of ``nb`` (a NotebookNode, as submitted).

    Student-written means: the solution cells, and any other cell that is not locked and
    not, word for word, a cell of the release ``released`` (the instructor's demonstration
    cells carry no nbgrader metadata, and may well use rnnkit). Imports are followed
    through every cell, so that ``np`` means numpy in an answer. What the instructor's
    own solution in ``source`` does (an allowed helper such as rnnkit.sigmoid, say) is
    not reported in the same cell of the submission. With ``assignment``, only the use of
    that assignment's reference is reported (sealed_names).
    """
    sealed = sealed_names(assignment) if assignment else None
    allowed = {}
    if source is not None:
        source_aliases = {}
        for index, cell in enumerate(source.cells):
            if cell.get("cell_type") == "code":
                label = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or f"cell {index}"
                allowed[label] = {f.message for f in scan_source(cell.get("source", ""), label, source_aliases,
                                                                 sealed)}
    from_release = {c.get("source", "").strip() for c in released.cells} if released is not None else set()
    aliases = {}
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        label = grade_id or f"cell {index}"
        text = cell.get("source", "")
        instructors = (utils.is_locked(cell) and not utils.is_solution(cell)) or (
            not utils.is_solution(cell) and text.strip() in from_release)
        if not instructors:
            found += [f for f in scan_source(text, label, aliases, sealed)
                      if f.message not in allowed.get(label, ())]
        else:
            # learn the instructor's imports without reporting them
            try:
                _Visitor(aliases).visit(ast.parse(_python_source(text)))
            except (SyntaxError, ValueError):
                pass
    return found
