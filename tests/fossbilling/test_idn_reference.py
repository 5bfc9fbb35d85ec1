"""The FOSSBilling manager's A-labels without intl — its lowercase table and its RFC 3492
encoder — against Python's: `str.lower`, the `punycode` codec and `idna` (UTS #46)."""

from __future__ import annotations

import json
import random
import subprocess

from tests.fossbilling.reference import a_label, username
from tests.fossbilling.runner import ROOT, call, requires_php, results, run

pytestmark = requires_php

LOAD = (
    f"require '{ROOT}/tests/fossbilling/standin.php'; "
    f"require '{ROOT}/integrations/fossbilling/Isphooks.php'; "
)
SETTINGS = {
    "username": "isp1",
    "password": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "accesshash": "https://hooks.example.net/isphooks-{action}",
}


def php(code: str, stdin: str = "") -> str:
    proc = subprocess.run(
        ["php", "-r", LOAD + code], input=stdin, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    return proc.stdout


def test_the_lowercase_table_is_unicodes():
    """Every mapping the table makes is Python's (Unicode 14), and the table has all of
    Python's for Latin, Greek, Cyrillic and Armenian (below U+0590, where registrars sell
    names and Unicode no longer changes)."""
    out = php(
        "for ($cp = 0; $cp <= 0x10FFFF; $cp++) { if ($cp >= 0xD800 && $cp <= 0xDFFF) continue;"
        " $low = IsphooksFossbilling\\Idn::lower($cp); if ($low !== [$cp]) echo $cp, ':',"
        " implode(',', $low), \"\\n\"; }"
    )
    php_map = {
        int(cp): [int(x) for x in low.split(",")]
        for cp, low in (line.split(":") for line in out.split())
    }
    for cp, low in php_map.items():
        assert [ord(c) for c in chr(cp).lower()] == low, hex(cp)
    python_map = {cp for cp in range(0x590) if chr(cp).lower() != chr(cp)}
    assert python_map <= set(php_map)
    assert len(php_map) > 1400


def test_punycode_is_the_rfc_3492_encoder():
    """Random labels from several scripts, ASCII mixed in, against Python's punycode codec."""
    rng = random.Random(32)
    alphabets = [
        "abcXYZ019-",
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "αβγδεζηθικλμνξοπρστυφχψω",
        "一丁七万丈三上下不与丐丑专且世丘",
        "äöüßéèêñçåøæ",
        "ابتثجحخدذرزسشصضطظعغ",
        "😀🎉🚀",
        "ㄱㄴㄷ가나다",
    ]
    labels = []
    for _ in range(300):
        pool = "".join(rng.sample(alphabets, rng.randint(1, 3)))
        labels.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 20))))
    out = php(
        "foreach (json_decode(stream_get_contents(STDIN), true) as $s) echo"
        ' IsphooksFossbilling\\Idn::punycode(IsphooksFossbilling\\Idn::codePoints($s)), "\\n";',
        json.dumps(labels),
    )
    assert out.split("\n")[:-1] == [label.encode("punycode").decode() for label in labels]


def test_a_labels_and_usernames_match_the_reference():
    domains = [
        "shop.example.com",
        "Сайт.рф",
        "münchen-shop.de",
        "интернет-магазин.рф",
        "123.example",
        "例え.jp",
        "ÉCOLE.fr",
        "a.io",
        "Bücher.DE.",
        "İstanbul.com.tr",
        "παράδειγμα.δοκιμή",
        "faß.de",
        "xn--80aswg.xn--p1ai",
        "ΑΘΗΝΑ.gr",
    ]
    out = run(SETTINGS, *(call("idn", arg=d) for d in domains))
    for domain, got in zip(domains, results(out), strict=True):
        assert got == {"a_label": a_label(domain), "username": username(domain)}, domain
