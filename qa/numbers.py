"""Numbers in English questions and texts: number words up to twelve, and the numbers a question pins."""

import re

CARDINALS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
            "eleventh", "twelfth")
PINNED_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?:st|nd|rd|th)?(?!\w)"  # 2026, 1,000, 2.5, 28th
                           rf"|\b(?:{'|'.join(ORDINALS[1:])})\b", re.IGNORECASE)  # second, ... (not first)
