"""SOAP 1.1 envelopes as Exchange Web Services writes and reads them.

Requests are parsed with defusedxml (no entity expansion, no DTDs). Responses carry the
`ServerVersionInfo` header of an
Exchange 2016 CU23 server, per-item `ResponseMessage`s with ResponseClass/ResponseCode, and
request-level refusals as SOAP faults whose detail holds `ResponseCode` and `MessageXml`
(where EWS puts `BackOffMilliseconds`).
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/ews-xml-elements-in-exchange
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import defusedxml.ElementTree as SafeET

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
E = "http://schemas.microsoft.com/exchange/services/2006/errors"
for _prefix, _uri in (("s", SOAP), ("m", M), ("t", T), ("e", E)):
    ET.register_namespace(_prefix, _uri)

# Exchange Server 2016 CU23 (15.1.2507.6) answers with this header.
SERVER_VERSION = {
    "MajorVersion": "15",
    "MinorVersion": "1",
    "MajorBuildNumber": "2507",
    "MinorBuildNumber": "6",
    "Version": "V2017_07_11",
}
ACCEPTED_VERSIONS = {
    "Exchange2007",
    "Exchange2007_SP1",
    "Exchange2010",
    "Exchange2010_SP1",
    "Exchange2010_SP2",
    "Exchange2013",
    "Exchange2013_SP1",
    "Exchange2015",
    "Exchange2015_SP1",
    "Exchange2016",
    "V2017_07_11",
}


class EwsError(Exception):
    """A per-item (ResponseMessage) error, or with `fault=True` a request-level SOAP fault."""

    def __init__(
        self,
        code: str,
        text: str,
        *,
        fault: bool = False,
        values: dict[str, str] | None = None,
        status: int = 500,
    ) -> None:
        super().__init__(f"{code}: {text}")
        self.code = code
        self.text = text
        self.fault = fault
        self.values = values or {}
        self.status = status


def t(name: str) -> str:
    return f"{{{T}}}{name}"


def m(name: str) -> str:
    return f"{{{M}}}{name}"


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def sub(parent: ET.Element, tag: str, text: Any = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        el.text = text if isinstance(text, str) else _text(text)
    return el


def el(tag: str, text: Any = None, **attrs: str) -> ET.Element:
    e = ET.Element(tag, {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        e.text = text if isinstance(text, str) else _text(text)
    return e


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_envelope(body: bytes) -> tuple[ET.Element, ET.Element]:
    """(header, operation element) of a request; an EwsError fault when it is not SOAP."""
    try:
        root = SafeET.fromstring(body)  # no entities or DTDs: a client's XML is input
    except (ET.ParseError, SafeET.DefusedXmlException) as exc:
        raise EwsError(
            "ErrorSchemaValidation", f"The request is not valid XML: {exc}", fault=True
        ) from exc
    if root.tag != f"{{{SOAP}}}Envelope":
        raise EwsError("ErrorSchemaValidation", "The request is not a SOAP envelope.", fault=True)
    header = root.find(f"{{{SOAP}}}Header")
    soap_body = root.find(f"{{{SOAP}}}Body")
    if soap_body is None or len(soap_body) != 1:
        raise EwsError(
            "ErrorSchemaValidation", "The SOAP body must hold one operation.", fault=True
        )
    return (header if header is not None else ET.Element("header")), soap_body[0]


def envelope(content: ET.Element | None) -> bytes:
    root = ET.Element(f"{{{SOAP}}}Envelope")
    header = sub(root, f"{{{SOAP}}}Header")
    sub(header, t("ServerVersionInfo"), **SERVER_VERSION)
    body = sub(root, f"{{{SOAP}}}Body")
    if content is not None:
        body.append(content)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def fault(err: EwsError) -> bytes:
    """A SOAP fault as EWS sends for request-level errors (HTTP 500)."""
    root = ET.Element(f"{{{SOAP}}}Envelope")
    body = sub(root, f"{{{SOAP}}}Body")
    f = sub(body, f"{{{SOAP}}}Fault")
    code_ns = "Server" if err.code == "ErrorServerBusy" else "Client"
    sub(f, "faultcode", f"s:{code_ns}" if not err.code.startswith("Error") else f"a:{err.code}")
    sub(f, "faultstring", err.text)
    detail = sub(f, "detail")
    sub(detail, f"{{{E}}}ResponseCode", err.code)
    sub(detail, f"{{{E}}}Message", err.text)
    if err.values:
        xml = sub(detail, t("MessageXml"))
        for name, value in err.values.items():
            sub(xml, t("Value"), value, Name=name)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def response_message(op: str, err: EwsError | None = None) -> ET.Element:
    """One `<m:{op}ResponseMessage>`; the caller appends the payload for a success."""
    msg = el(m(f"{op}ResponseMessage"), ResponseClass="Error" if err else "Success")
    if err:
        sub(msg, m("MessageText"), err.text)
        sub(msg, m("ResponseCode"), err.code)
        sub(msg, m("DescriptiveLinkKey"), "0")
        if err.values:
            xml = sub(msg, m("MessageXml"))
            for name, value in err.values.items():
                sub(xml, t("Value"), value, Name=name)
    else:
        sub(msg, m("ResponseCode"), "NoError")
    return msg


def response(op: str, messages: list[ET.Element]) -> ET.Element:
    root = el(m(f"{op}Response"))
    container = sub(root, m("ResponseMessages"))
    container.extend(messages)
    return root


def text_of(parent: ET.Element | None, tag: str, default: str = "") -> str:
    if parent is None:
        return default
    found = parent.find(tag)
    return found.text or "" if found is not None else default
