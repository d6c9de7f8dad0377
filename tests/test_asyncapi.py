"""The AsyncAPI contract against the code, without a server.

* docs/asyncapi.json is what scripts/asyncapi.py makes from the services and the contracts
  today (a changed subscriber, publication or message model makes it stale), and valid
  against the AsyncAPI 3.0.0 JSON schema (vendored in tests/schemas);
* every ``publish``/``request`` in a service (and in the runtime library code it reaches, and
  in the CLI) names its subject through a :class:`Subjects` member declared for it in
  tally.contracts.publications, and every declared publication is sent by the code: found by
  reading the source (a subject passed as a parameter is followed to the callers), so a
  publish on a path no test runs is checked too;
* each declaration is one its identity may publish (tally.contracts.access).
"""

import ast
import gzip
import importlib.util
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Final

import jsonschema
import pytest

from tally.contracts.access import SERVICES, permissions
from tally.contracts.publications import PUBLISHERS, publications
from tally.contracts.subjects import Subjects

ROOT = Path(__file__).resolve().parent.parent
BUS_METHODS = {"publish", "request"}
REPLAYED: Final = {
    "cli": {
        "connection.publish(subject, payload, headers=headers or None)",
        "js.publish(subject, payload, stream=stream, headers=headers or None)",
    }
}
"""Calls that send a stored message back to the subject it was first published on (`tally
dlq replay`, libs/cli dead_letters.py): that subject is whichever service's publication the
letter was, declared there, so the scan cannot and need not tell it."""
NEVER_SENT = {
    ("dashboard", "dead_letter"): "the dashboard subscribes to nothing: its broker's dead-letter "
    "middleware never runs, and the dashboard may not publish dead letters",
}
"""(identity, subject name) the code can reach but never sends, with the reason."""


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("asyncapi_script", ROOT / "scripts/asyncapi.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_document_is_the_generated_one() -> None:
    """docs/asyncapi.json equals what scripts/asyncapi.py generates now (make asyncapi)."""
    script = _script()
    committed = script.DOCUMENT.read_text(encoding="utf-8")
    assert committed == script.rendered(), "docs/asyncapi.json is stale: run make asyncapi"


def test_the_document_is_valid_asyncapi_3() -> None:
    """The official AsyncAPI 3.0.0 schema accepts docs/asyncapi.json, and refuses it with an
    operation whose action is neither send nor receive (the check can fail)."""
    schema = json.loads(
        gzip.decompress((ROOT / "tests/schemas/asyncapi-3.0.0.json.gz").read_bytes())
    )
    document = json.loads((ROOT / "docs/asyncapi.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    assert [error.message for error in validator.iter_errors(document)] == []
    document["operations"]["gateway:alert_command"]["action"] = "ask"
    assert list(validator.iter_errors(document))


def test_every_request_declares_its_reply() -> None:
    """Each request (a publication with a reply model) has an AsyncAPI 3 ``reply`` whose
    message carries the reply model's schema."""
    document = json.loads((ROOT / "docs/asyncapi.json").read_text(encoding="utf-8"))
    requests = [
        (identity, publication)
        for identity, declared in publications(Subjects()).items()
        for publication in declared
        if publication.reply is not None
    ]
    assert {f"{i}:{p.name}" for i, p in requests} == {
        "gateway:chat_report",
        "gateway:ops_report",
        "gateway:alert_command",
        "alerts:chat_report",
    }
    for identity, publication in requests:
        key = f"{identity}:{publication.name}"
        assert document["operations"][key]["reply"]["channel"] == {
            "$ref": f"#/channels/{key}:Reply"
        }
        message = document["components"]["messages"][f"{key}:Reply"]
        assert message["payload"] == {"$ref": f"#/components/schemas/{publication.reply.__name__}"}
        assert publication.reply.__name__ in document["components"]["schemas"]


def test_the_document_names_every_publication_with_its_message() -> None:
    """Each identity's publications are channels of the combined document, on their subject,
    with the contract model's schema as the payload."""
    document = json.loads((ROOT / "docs/asyncapi.json").read_text(encoding="utf-8"))
    schemas = document["components"]["schemas"]
    for identity, declared in publications(Subjects()).items():
        for publication in declared:
            channel = document["channels"][f"{identity}:{publication.name}"]
            assert channel["address"] == publication.subject
            message = document["components"]["messages"][f"{identity}:{publication.name}:Message"]
            payload = message["payload"]
            reference = payload.get("$ref") or payload["oneOf"][0]["$ref"]
            assert reference.rsplit("/", 1)[1] in schemas


@dataclass
class Program:
    """The parsed source files one identity runs: its own (``own``) and a library's
    (``library``, whose functions count only when the identity's code reaches them)."""

    own: list[ast.Module]
    library: list[ast.Module] = field(default_factory=list)

    def modules(self) -> Iterator[ast.Module]:
        yield from self.own
        yield from self.library

    def calls_to(self, name: str) -> Iterator[tuple[ast.Call, ast.AST]]:
        """Every call of a function or method called ``name``, with its enclosing function."""
        for module in self.modules():
            for function in _functions(module):
                for node in _own_nodes(function):
                    if isinstance(node, ast.Call) and _callee(node) == name:
                        yield node, function


def _parsed(*folders: str) -> list[ast.Module]:
    return [
        ast.parse(path.read_text(encoding="utf-8"), str(path))
        for folder in folders
        for path in sorted((ROOT / folder).rglob("*.py"))
    ]


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _own_nodes(function: ast.AST) -> Iterator[ast.AST]:
    """The nodes of ``function``'s body, not those of functions defined inside it."""
    for child in ast.iter_child_nodes(function):
        if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            yield child
            yield from _own_nodes(child)


def _callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return call.func.id if isinstance(call.func, ast.Name) else None


def _is_subjects(node: ast.expr) -> bool:
    return ast.unparse(node).rsplit(".", 1)[-1] in {"subjects", "_subjects"}


def _argument(call: ast.Call, function: ast.AST, parameter: str) -> ast.expr | None:
    """The expression ``call`` passes to ``function``'s ``parameter``."""
    assert isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
    for keyword in call.keywords:
        if keyword.arg == parameter:
            return keyword.value
    names = [argument.arg for argument in [*function.args.posonlyargs, *function.args.args]]
    if names and names[0] in {"self", "cls"} and isinstance(call.func, ast.Attribute):
        names = names[1:]
    index = names.index(parameter) if parameter in names else len(call.args)
    return call.args[index] if index < len(call.args) else None


def _subject_names(
    expression: ast.expr | None, function: ast.AST, program: Program, depth: int = 0
) -> set[str] | None:
    """The :class:`Subjects` members ``expression`` can be (``subjects.plan_ready``,
    ``self._subjects.chat_event(...)``, a local variable or a parameter holding one), or None
    when it cannot be told from the source."""
    if expression is None or depth > 4:
        return None
    if isinstance(expression, ast.Call):
        expression = expression.func
    if isinstance(expression, ast.Attribute) and _is_subjects(expression.value):
        return {expression.attr}
    if not isinstance(expression, ast.Name):
        return None
    for node in _own_nodes(function):
        if isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == [
            expression.id
        ]:
            return _subject_names(node.value, function, program, depth + 1)
    assert isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
    names: set[str] = set()
    for call, caller in program.calls_to(function.name):
        passed = _argument(call, function, expression.id)
        found = _subject_names(passed, caller, program, depth + 1)
        if found is None:
            return None
        names |= found
    return names or None


def _bus_calls(tree: ast.AST) -> Iterator[tuple[ast.Call, ast.AST]]:
    """``x.publish(message, subject, ...)`` and ``x.request(...)`` calls (a subject given),
    with their enclosing function; ``chat_events.publish([...])`` takes none and is not one."""
    for function in _functions(tree):
        for node in _own_nodes(function):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            named = any(keyword.arg == "subject" for keyword in node.keywords)
            if node.func.attr in BUS_METHODS and (len(node.args) >= 2 or named):
                yield node, function


def _sent(call: ast.Call, function: ast.AST, program: Program) -> set[str] | None:
    """The subject names one bus call sends on (its ``subject`` keyword, or the second
    positional argument as FastStream takes it, or the first as nats-py takes it)."""
    for keyword in call.keywords:
        if keyword.arg == "subject":
            return _subject_names(keyword.value, function, program)
    for argument in (call.args[1], call.args[0]):
        found = _subject_names(argument, function, program)
        if found:
            return found
    return None


def _reachable(program: Program) -> set[str]:
    """The names of the library's top-level functions and classes the identity's code
    reaches (by name, transitively)."""
    definitions = {
        node.name: node
        for module in program.library
        for node in module.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }
    pending = [node for module in program.own for node in ast.walk(module)]
    reached: set[str] = set()
    while pending:
        node = pending.pop()
        name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
        if name in definitions and name not in reached:
            reached.add(name)
            pending.extend(ast.walk(definitions[name]))
    return reached


def sent_by(program: Program, where: str) -> tuple[set[str], list[str]]:
    """The subject names ``program`` publishes or requests on, and the calls whose subject
    could not be told (``file:line``)."""
    reached = _reachable(program)
    sent: set[str] = set()
    unknown: list[str] = []
    for module in program.modules():
        tops = [module] if module in program.own else _reached_tops(module, reached)
        for top in tops:
            for call, function in _bus_calls(top):
                found = _sent(call, function, program)
                if found is None:
                    unknown.append(f"{where}: {ast.unparse(call)[:80]} (line {call.lineno})")
                else:
                    sent |= found
    return sent, unknown


def _reached_tops(module: ast.Module, reached: set[str]) -> list[ast.AST]:
    return [node for node in module.body if getattr(node, "name", None) in reached]


def _program(identity: str) -> Program:
    if identity in SERVICES:
        return Program(_parsed(f"services/{identity}/src"), _parsed("libs/runtime/src"))
    return Program(_parsed("libs/cli/src"))


def _declared(identity: str) -> set[str]:
    if identity == "cli":  # tally import runs as the operator (admin)
        return {p.name for who in ("cli", "admin") for p in publications(Subjects())[who]}
    return {publication.name for publication in publications(Subjects())[identity]}


@pytest.mark.parametrize("identity", [*SERVICES, "cli"])
def test_every_publish_and_request_is_declared(identity: str) -> None:
    """Each publish or request the identity's code makes names a subject declared for it in
    tally.contracts.publications (so it is in the AsyncAPI document)."""
    sent, unknown = sent_by(_program(identity), identity)
    replays = REPLAYED.get(identity, set())
    unknown = [u for u in unknown if not any(f": {call} (line" in u for call in replays)]
    assert not unknown, f"subjects not told by the source (name one Subjects member): {unknown}"
    never = {name for who, name in NEVER_SENT if who == identity}
    assert sent - _declared(identity) - never == set(), "published but not declared"


@pytest.mark.parametrize("identity", [*SERVICES, "cli"])
def test_every_declared_publication_is_sent(identity: str) -> None:
    """Nothing is declared that the identity's code does not publish or request."""
    sent, _ = sent_by(_program(identity), identity)
    never = {name for who, name in NEVER_SENT if who == identity}
    assert _declared(identity) - sent == set()
    assert never <= sent, "NEVER_SENT lists a subject the code does not reach"


def test_the_scan_sees_an_undeclared_publish() -> None:
    """A publish on a subject the identity does not declare is found (the scan can fail)."""
    source = """
async def tell(broker, subjects, message):
    await broker.publish(message, subjects.video_batch)

async def ask(ctx, message):
    subject = ctx.subjects.ops_report
    await ctx.broker.request(message, subject, timeout=1)
"""
    sent, unknown = sent_by(Program([ast.parse(source)]), "example")
    assert sent == {"video_batch", "ops_report"} and not unknown
    _, unknown = sent_by(Program([ast.parse("async def f(b, s):\n b.publish(1, s)\n")]), "x")
    assert unknown


def _overlap(pattern: str, subject: str) -> bool:
    """Whether some concrete subject matches both NATS patterns."""
    left, right = pattern.split("."), subject.split(".")
    for index, (a, b) in enumerate(zip(left, right, strict=False)):
        if ">" in (a, b):
            return True
        if "*" not in (a, b) and a != b:
            return False
        if index == min(len(left), len(right)) - 1:
            return len(left) == len(right)
    return False


@pytest.mark.parametrize("identity", PUBLISHERS)
def test_every_publication_is_allowed_to_its_identity(identity: str) -> None:
    """Each declared publication's channel meets a subject its NATS user may publish."""
    subjects = Subjects()
    allowed = permissions(subjects)[identity].publish  # type: ignore[index]
    for publication in publications(subjects)[identity]:
        assert any(_overlap(pattern, publication.subject) for pattern in allowed), publication
