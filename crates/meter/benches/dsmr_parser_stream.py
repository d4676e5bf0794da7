#!/usr/bin/env python3
"""Python anchor on changing telegrams: the PyPI `dsmr-parser` (TelegramParser, DSMR 5
specification, CRC checked) over the telegrams of a file, in order, as the `anchor` bench's
"simulated day" group feeds `dsmr5` and Hearth. Write the file with the bench:

    HEARTH_ANCHOR_DAY=/tmp/day.p1 cargo bench -p hearth-meter --bench anchor -- --list
    python3 -m venv /tmp/dsmrvenv && /tmp/dsmrvenv/bin/pip install dsmr-parser
    /tmp/dsmrvenv/bin/python crates/meter/benches/dsmr_parser_stream.py /tmp/day.p1 --n 3600

The parser keeps nothing between telegrams, so this is its only figure: every telegram is
parsed cold. Prints the median of --repeats runs over the first --n telegrams.
"""
import argparse
import statistics
import time
from importlib.metadata import version as pkg_version

from dsmr_parser import telegram_specifications
from dsmr_parser.parsers import TelegramParser


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('file')
    ap.add_argument('--n', type=int, default=3600, help='telegrams per run')
    ap.add_argument('--repeats', type=int, default=3)
    args = ap.parse_args()
    text = open(args.file, 'rb').read().decode('ascii')
    telegrams = []
    start = 0
    while len(telegrams) < args.n:
        slash = text.find('/', start)
        if slash < 0:
            break
        end = text.index('!', slash) + 7  # '!' + 4 hex CRC digits + CRLF
        telegrams.append(text[slash:end])
        start = end
    parser = TelegramParser(telegram_specifications.V5)
    for t in telegrams:
        parser.parse(t, throw_ex=True)  # every one CRC-valid and accepted
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        for t in telegrams:
            parser.parse(t)
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    n = len(telegrams)
    print(f"dsmr-parser {pkg_version('dsmr-parser')}: {n} changing telegrams, "
          f"median of {args.repeats}: {med / n * 1e6:.1f} us/telegram, {n / med:,.0f} telegrams/s "
          f"(runs {', '.join(f'{x:.3f}' for x in times)} s)")


if __name__ == '__main__':
    main()
