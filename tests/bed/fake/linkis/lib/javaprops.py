"""How java.util.Properties reads a .properties text, for the FAKE Linkis of the test bed
(tests/bed/README.md): the fake services read their conf with it, so a value the generator
escapes wrongly reads differently here exactly as it would in Linkis. tests/bed/props_check.py
proves it against the JDK's own Properties on every installed conf file and a random corpus."""
import re

BLANK = " \t\f"


def java_properties(text):
    """Every key and value of a .properties text, read as java.util.Properties.load(Reader) reads
    it: the JDK's LineReader (as of JDK 9+; the bed checks it against the JDK on the machine) and
    loadConvert. Natural lines end at LF, CR or CRLF; the leading blanks (space, tab, form feed)
    of a logical line and of each continuation are skipped; while the logical line is still empty,
    # or ! starts a comment that ends at the line end; a line ending in an odd number of
    backslashes continues on the next natural line (a blank or empty next line ends it); the key
    ends at the first unescaped =, : or blank, after which blanks, one = or :, and blanks again
    are skipped; trailing blanks stay in the value; \\t \\n \\r \\f and \\uXXXX are decoded,
    any other escaped character stands for itself, and a malformed \\uXXXX is an error
    (IllegalArgumentException in Java). A later duplicate key wins. (JDK 8 differs in one corner
    the generator never writes: after a line that is only a backslash, it reads a # or ! on the
    next line as part of a key.)"""
    out = {}
    for line in logical_lines(text):
        k, v = split_line(line)
        out[k] = v
    return out


def logical_lines(text):
    """The logical lines of a .properties text, as the JDK's Properties.LineReader.readLine
    returns them (each one's continuations joined; an empty one is a line too)."""
    i, n = 0, len(text)
    while True:
        line, skip, appended, bs, skip_lf = [], True, False, False, False
        while True:
            if i >= n:
                if line:
                    yield "".join(line[:-1] if bs else line)
                return
            c = text[i]
            i += 1
            if skip_lf:
                skip_lf = False
                if c == "\n":
                    continue
            if skip:
                if c in BLANK:
                    continue
                if not appended and c in "\r\n":
                    continue
                skip = appended = False
            if not line and c in "#!":
                # A comment: the rest of the natural line, its line end included.
                while i < n and text[i] not in "\r\n":
                    i += 1
                if i >= n:
                    return
                i += 1
                skip = True
                continue
            if c not in "\r\n":
                line.append(c)
                bs = (not bs) if c == "\\" else False
                continue
            if not line:
                skip = True
                continue
            if i >= n:
                yield "".join(line[:-1] if bs else line)
                return
            if bs:
                line.pop()
                skip, appended, bs = True, True, False
                skip_lf = c == "\r"
                continue
            yield "".join(line)
            break


def split_line(line):
    key_len, start, sep, bs = 0, len(line), False, False
    while key_len < len(line):
        c = line[key_len]
        if c in "=:" and not bs:
            start, sep = key_len + 1, True
            break
        if c in BLANK and not bs:
            start = key_len + 1
            break
        bs = c == "\\" and not bs
        key_len += 1
    while start < len(line):
        c = line[start]
        if c not in BLANK:
            if not sep and c in "=:":
                sep = True
            else:
                break
        start += 1
    return unescape(line[:key_len]), unescape(line[start:])


def unescape(s):
    units, i = [], 0
    while i < len(s):
        c = s[i]
        i += 1
        if c != "\\":
            units.append(c)
            continue
        if i >= len(s):
            break  # a lone backslash at the very end of the text is dropped
        e = s[i]
        i += 1
        if e == "u":
            h = s[i:i + 4]
            if not re.fullmatch(r"[0-9a-fA-F]{4}", h):
                raise ValueError("Malformed \\uxxxx encoding")
            units.append(chr(int(h, 16)))
            i += 4
        else:
            units.append({"t": "\t", "n": "\n", "r": "\r", "f": "\f"}.get(e, e))
    # \\uXXXX pairs may be UTF-16 surrogates: join them as Java's String does.
    return "".join(units).encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
