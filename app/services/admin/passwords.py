"""Password rules for this user base: length over complexity, and no common passwords.

Village inspectors type on phones; a rule demanding digits, capitals and symbols only
yields ``Abc@123456`` on a sticky note. What protects an account is length and not being
on the lists that guessing starts with (NIST SP 800-63B section 5.1.1.2). So: at least
``PASSWORD_MIN_LENGTH`` characters (10 by default), any characters at all, and not one of
the commonest passwords (those of published Chinese and international leak studies), nor
one of them with a year or a few digits on the end, nor the user name, nor one repeated
character or a keyboard run.
"""

import re

from flask import current_app

from app.errors import InvalidInput

MAX_LENGTH = 128
# The commonest passwords of the CSDN / Tianya / 12306 leaks and of international lists,
# plus the demo password printed in the README.
COMMON_PASSWORDS = frozenset("""
123456 123456789 12345678 1234567890 111111 000000 11111111 00000000 123123 123123123 1234567 12345
88888888 66666666 888888 666666 11223344 112233 121212 12121212 123321 654321 987654321 87654321
147258369 159357 789456123 123654789 147258 520520 5201314 1314520 5201314520 1314520520 520520520
woaini woaini1314 woaini520 iloveyou iloveyou1314 a123456 a123456789 a12345678 aa123456 123456a
123456aa 123456abc abc123 abc123456 abcd1234 abc12345 qq123456 qq5201314 1qaz2wsx 1qaz2wsx3edc
qazwsx qazwsxedc qweasd qweasdzxc zxcvbnm zxcvbnm123 asdfgh asdfghjkl qwerty qwertyuiop qwerty123
1q2w3e4r 1q2w3e4r5t q1w2e3r4 password password1 password123 passw0rd p@ssw0rd admin admin123
admin888 root root123 test test123 guest welcome letmein monkey dragon sunshine princess football
baseball master shadow superman trustno1 iloveu xiazhili aaaaaa aaaaaaaa asdasdasd 31415926
3.1415926 12344321 110110 110110110 1234qwer qwer1234 wang123456 zhang123456 li123456 liu123456
chen123456 huang123456 zhao123456 woaiwojia wodemima mima123 mima123456 changeme changeme123
firstline firstline2026 diyixian huanbao 12369 1236912369 12345123 123456123456 1122334455
""".split())
_KEYBOARD_RUNS = ("0123456789", "9876543210", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl", "zxcvbnm")
_TRAILING_DIGITS = re.compile(r"[\d!@#$%^&*.]{1,4}$")


def password_problem(password: str, username: str = "") -> str | None:
    """Why this password is refused (a Chinese sentence), or None when it is acceptable."""
    minimum = current_app.config.get("PASSWORD_MIN_LENGTH", 10)
    if len(password) < minimum:
        return f"密码至少 {minimum} 位（可以用一句好记的话，不要求大小写和符号）。"
    if len(password) > MAX_LENGTH:
        return f"密码不能超过 {MAX_LENGTH} 位。"
    lowered = password.lower()
    if len(set(lowered)) <= 2 or any(lowered in run for run in _KEYBOARD_RUNS):
        return "密码不能是重复字符或键盘顺序。"
    if username and username.lower() in lowered:
        return "密码不能包含用户名。"
    stem = _TRAILING_DIGITS.sub("", lowered)
    if lowered in COMMON_PASSWORDS or stem in COMMON_PASSWORDS:
        return "这是最常见的密码之一，很容易被猜中，请换一个。"
    return None


def check_password_policy(password: str, username: str = "", field: str = "password") -> None:
    """Raise InvalidInput naming ``field`` when the password breaks a rule."""
    problem = password_problem(password, username)
    if problem:
        raise InvalidInput(problem, {field: [problem]})
