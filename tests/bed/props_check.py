#!/usr/bin/env python3
"""The bed's fake Linkis reads .properties as java.util.Properties does: a differential check.

    props_check.py WORKDIR FILE...

Reads each FILE (the conf files installed on the bed's hosts) and a random corpus of texts made
of the characters that matter to the format (backslashes, separators, blanks, comment marks,
line ends of every kind, \\u escapes, good and malformed, non-ASCII), once with the fake's reader
(tests/bed/fake/linkis/lib/javaprops.py) and once with the JDK's (tests/bed/PropsCheck.java), and
exits 1 naming the first text they read differently. Seeded: the same corpus every run.
"""
import json
import os
import random
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "fake", "linkis", "lib"))
from javaprops import java_properties  # noqa: E402

CASES = int(os.environ.get("PROPS_CHECK_CASES", "400"))
PIECES = ["a", "b", "k", "=", ":", " ", "\t", "\f", "\\", "\\\\", "\n", "\r", "\r\n", "#", "!",
          "\\u0041", "\\u00e9", "\\ud83d\\ude00", "\\u12", "\\t", "\\n", "\\ ", "\\=",
          "é", "€", "x=y\n", "  # c\n", "p\\\n  q", "{{ v }}", "$HOME", "'", '"', "%s", ";&|"]


def ours(path):
    try:
        with open(path, encoding="utf-8", newline="") as f:
            return {"props": java_properties(f.read())}
    except ValueError:
        return {"error": True}


def main():
    work, files = sys.argv[1], sys.argv[2:]
    os.makedirs(work, exist_ok=True)
    rnd = random.Random(20261206)
    corpus = []
    for i in range(CASES):
        text = "".join(rnd.choice(PIECES) for _ in range(rnd.randint(1, 24)))
        path = os.path.join(work, "case-%03d.properties" % i)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        corpus.append(path)
    java = subprocess.run(["java", os.path.join(here, "PropsCheck.java")] + files + corpus,
                          capture_output=True, text=True, check=True).stdout.splitlines()
    if len(java) != len(files) + len(corpus):
        sys.exit("PropsCheck.java answered %d of %d files" % (len(java), len(files) + len(corpus)))
    errors = 0
    for line in java:
        theirs = json.loads(line)
        path = theirs.pop("file")
        if "error" in theirs:
            theirs["error"] = True
        mine = ours(path)
        if mine != theirs:
            with open(path, encoding="utf-8", newline="") as f:
                text = f.read()
            sys.exit("the fake reads %s differently from java.util.Properties:\n  text: %r\n  java: %r\n  fake: %r"
                     % (path, text, theirs, mine))
        errors += "error" in theirs
    keys = sum(len(json.loads(l).get("props", {})) for l in java[:len(files)])
    print("props_check: the fake reads %d installed files (%d keys) and %d random texts (%d malformed) "
          "as java.util.Properties does" % (len(files), keys, len(corpus), errors))


main()
