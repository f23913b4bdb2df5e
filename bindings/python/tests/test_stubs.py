"""The type stubs (libcrm/__init__.pyi) against the runtime: every public
name the stubs declare exists, with the same parameters (names, kinds,
defaults or not), and the exception classes with the same bases."""

import ast
import builtins
import inspect
import pathlib

import libcrm

STUB = pathlib.Path(libcrm.__file__).with_name("__init__.pyi")
KINDS = {"posonly": inspect.Parameter.POSITIONAL_ONLY, "arg": inspect.Parameter.POSITIONAL_OR_KEYWORD,
         "kwonly": inspect.Parameter.KEYWORD_ONLY}


def stub_params(fn):
    a = fn.args
    out = []
    pos = [(p, "posonly") for p in a.posonlyargs] + [(p, "arg") for p in a.args]
    ndef = len(a.defaults)
    for i, (p, kind) in enumerate(pos):
        out.append((p.arg, KINDS[kind], i >= len(pos) - ndef))
    if a.vararg:
        out.append((a.vararg.arg, inspect.Parameter.VAR_POSITIONAL, False))
    for p, d in zip(a.kwonlyargs, a.kw_defaults):
        out.append((p.arg, KINDS["kwonly"], d is not None))
    if a.kwarg:
        out.append((a.kwarg.arg, inspect.Parameter.VAR_KEYWORD, False))
    return [p for p in out if p[0] != "self"]


def runtime_params(obj):
    sig = inspect.signature(obj)
    return [(p.name, p.kind, p.default is not inspect.Parameter.empty) for p in sig.parameters.values()
            if p.name != "self"]


def check_function(obj, fn, where):
    assert callable(obj), where
    assert runtime_params(obj) == stub_params(fn), where


def test_stubs_match_runtime():
    tree = ast.parse(STUB.read_text())
    checked = 0
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            check_function(getattr(libcrm, node.name), node, node.name)
            checked += 1
        elif isinstance(node, ast.ClassDef):
            cls = getattr(libcrm, node.name)
            assert isinstance(cls, type), node.name
            for base in node.bases:
                if isinstance(base, ast.Name):
                    b = getattr(libcrm, base.id, None) or getattr(builtins, base.id, None)
                    if isinstance(b, type):
                        assert issubclass(cls, b), (node.name, base.id)
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    attr = inspect.getattr_static(cls, item.name)
                    decorated = [d.id for d in item.decorator_list if isinstance(d, ast.Name)]
                    if "property" in decorated:
                        assert hasattr(attr, "__get__"), (node.name, item.name)
                    elif item.name in ("__iter__", "__next__", "__enter__", "__exit__", "__init__"):
                        assert hasattr(cls, item.name), (node.name, item.name)
                    else:
                        check_function(getattr(cls, item.name), item, f"{node.name}.{item.name}")
                    checked += 1
                elif isinstance(item, ast.AnnAssign) and issubclass(cls, BaseException):
                    assert hasattr(cls, item.target.id), (node.name, item.target.id)
    assert checked > 80


def test_every_public_runtime_name_is_in_the_stubs():
    tree = ast.parse(STUB.read_text())
    declared = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert set(libcrm.__all__) <= declared
    conn = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Connection")
    methods = {i.name for i in conn.body if isinstance(i, ast.FunctionDef)}
    public = {n for n in dir(libcrm.Connection) if not n.startswith("_")}
    assert public <= methods, public - methods


def test_docstrings():
    for name in dir(libcrm.Connection):
        if not name.startswith("_"):
            assert getattr(libcrm.Connection, name).__doc__, name
