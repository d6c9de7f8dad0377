"""The ``/asyncapi`` page: an AsyncAPI 3.0 document as one self-contained HTML page.

FastStream's page loads the AsyncAPI React component from unpkg.com, which a service behind
a firewall (or a reader offline) cannot reach; this one is rendered on the server from the
document and links nothing outside itself: the channels with what is sent or received on each
and the message, then every payload's JSON Schema.
"""

import json
from html import escape
from typing import Any

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; line-height: 1.45; color: #1f2328; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #d0d7de; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
code, pre { font-family: ui-monospace, monospace; font-size: .85rem; }
pre { background: #f6f8fa; padding: .8rem; overflow-x: auto; }
"""


def _reference_name(reference: str) -> str:
    return reference.rsplit("/", 1)[-1]


def _payload_schemas(payload: dict[str, Any]) -> list[str]:
    """The names of the component schemas a message payload refers to."""
    options = payload.get("oneOf") or payload.get("anyOf") or [payload]
    return [_reference_name(option["$ref"]) for option in options if "$ref" in option]


def _links(names: list[str]) -> str:
    return ", ".join(f'<a href="#schema-{escape(name)}">{escape(name)}</a>' for name in names)


def _channel_rows(document: dict[str, Any]) -> list[str]:
    messages = document.get("components", {}).get("messages", {})
    actions = {
        _reference_name(operation["channel"]["$ref"]): operation["action"]
        for operation in document.get("operations", {}).values()
    }
    rows = []
    for name, channel in document.get("channels", {}).items():
        payloads = [
            schema
            for reference in channel.get("messages", {}).values()
            for schema in _payload_schemas(
                messages.get(_reference_name(reference["$ref"]), {}).get("payload", {})
            )
        ]
        rows.append(
            f"<tr><td>{escape(name)}</td><td>{escape(actions.get(name, ''))}</td>"
            f"<td><code>{escape(channel.get('address', ''))}</code></td>"
            f"<td>{_links(payloads)}</td><td>{escape(channel.get('description', ''))}</td></tr>"
        )
    return rows


def render(document: dict[str, Any]) -> str:
    """The HTML page of ``document`` (an AsyncAPI 3.0 document as JSON-ready dicts): a table
    of the channels (name, ``send``/``receive``, subject, payload, description) and each
    component schema as JSON. Every text from the document is HTML-escaped."""
    info = document.get("info", {})
    title = escape(f"{info.get('title', 'AsyncAPI')} {info.get('version', '')}".strip())
    schemas = document.get("components", {}).get("schemas", {})
    schema_sections = [
        f'<h3 id="schema-{escape(name)}">{escape(name)}</h3>'
        f"<pre>{escape(json.dumps(schema, indent=2, ensure_ascii=False))}</pre>"
        for name, schema in schemas.items()
    ]
    rows = "\n".join(_channel_rows(document))
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{title} AsyncAPI</title><style>{_STYLE}</style></head>
<body>
<h1>{title}</h1>
<p>{escape(info.get("description", ""))} AsyncAPI {escape(document.get("asyncapi", ""))};
the document itself: <a href="asyncapi.json">asyncapi.json</a>.</p>
<h2>Channels</h2>
<table><tr><th>Channel</th><th>Action</th><th>Subject</th><th>Payload</th><th>Description</th></tr>
{rows}
</table>
<h2>Schemas</h2>
{"".join(schema_sections)}
</body>
</html>
"""
