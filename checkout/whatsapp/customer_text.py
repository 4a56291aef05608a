"""Reading what a customer typed in WhatsApp: its words, the filler words of each language, and typo-tolerant
comparison of two words.

Customers write "mujhe chai chahiye", "tawaa", "kurtee", "quero pedir"; the shop's names and keywords say
"Assam Tea", "Cast Iron Tawa", "kurti". Both sides go through `words` (case, accents and apostrophes
dropped) and are compared by `spelling_key` (Hinglish spelling variants folded: ee/i, oo/u, w/v, th/t,
doubled letters) within a small edit distance that grows with the word. The filler words of every language
live here, in STOP_WORDS, and nowhere else.
"""

import re
import unicodedata
from collections.abc import Iterable, Sequence


def _listed(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that carry no meaning for finding a product or an answer, per language, as `words` returns them.
STOP_WORDS: dict[str, frozenset[str]] = {
    "en": _listed(
        """
        a an the i im id ive me my mine we us our you your u it its this that these those there here is are am was
        be been do does did have has had can could would should will shall may might must to of for in on at by
        with from and or but so if also just too very some any all one ones much many more please pls plz kindly
        want wants wanted wanna like need needs needed looking look show send give get got buy buying purchase
        order orders ordering place make item items thing things product products stuff something pieces piece
        hi hii hello hey hallo good morning evening afternoon thanks thank ok okay yes sir madam dear team
        what which where when how who whats price cost rate available availability have got
        """
    ),
    "hinglish": _listed(
        """
        mujhe muje mujhko mereko mera meri mere hume humein hamein hamko humko hum main mai me mein mai ap aap
        aapke apke aapka apka chahiye chahie chaiye chahiya chahte chahta chahti chahiyee hai hain he h hoga
        hogi ho tha thi karna karni karne karo kar kr krna krni kijiye kijie ka ki ke ko se pe par ek do
        dena dedo de dijiye bhejo bhej bhejna bhejiye bhejdo lena leni lene lo mangwana mangana mangwani
        mangta mangti kya kuch koi bhi aur ya wala wali wale vala vali vale sa si se please ji bhai bhaiya
        didi sir haan han accha acha achha theek thik namaste namaskar kitna kitne kitni ka rate milega
        milegi milenge available
        """
    ),
    "hi": _listed("मुझे मुझको मेरा मेरी हमें चाहिए चाहिये है हैं का की के को से में एक और या भी कुछ कोई दो दीजिए भेजो"),
    "sw": _listed(
        """
        nataka ninataka tunataka ningependa naomba nipe tupe kuagiza agiza kununua nunua oda order tafadhali
        habari jambo hujambo mambo sasa na ya wa la za kwa ni hii hiyo hizo moja mimi sisi je nini gani bei
        ngapi asante sawa ndiyo
        """
    ),
    "pt": _listed(
        """
        quero queria queremos gostaria preciso pedir pedido pedidos encomendar comprar fazer um uma uns umas o a
        os as de do da dos das no na nos nas em por favor pf pfv para pra com e eu me mim meu minha voce vc
        voces tem ter ola oi bom boa dia tarde noite obrigado obrigada quanto custa preco sim
        """
    ),
}
ALL_STOP_WORDS = frozenset().union(*STOP_WORDS.values())

# Letters, digits, and the vowel signs of Indic scripts and Arabic (which \w alone would split words at).
_WORD = re.compile(r"[\w\u064B-\u065F\u0900-\u0DFF\u0E00-\u0EFF\u1000-\u109F]+")
_APOSTROPHES = re.compile(r"['’`´]")
# Hinglish (and English) spellings of one sound, folded so "tawaa", "tava" and "tawa" read the same.
_SPELLING_FOLDS = (
    ("ee", "i"),
    ("oo", "u"),
    ("ph", "f"),
    ("ck", "k"),
    ("th", "t"),
    ("dh", "d"),
    ("bh", "b"),
    ("kh", "k"),
    ("gh", "g"),
    ("w", "v"),
    ("q", "k"),
    ("z", "j"),
)
_REPEATS = re.compile(r"(.)\1+")
SHORT_WORD = 5


def words(text: str) -> list[str]:
    """The words of a text, lower case, Latin accents dropped, apostrophes closed up: "Don't, Você!" → dont, voce."""
    return _WORD.findall(_without_latin_accents(_APOSTROPHES.sub("", text.casefold())))


def _without_latin_accents(text: str) -> str:
    # Accents go from Latin letters only: Devanagari vowel signs are combining marks too, and must stay.
    kept: list[str] = []
    for character in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(character) and kept and kept[-1].isascii():
            continue
        kept.append(character)
    return unicodedata.normalize("NFC", "".join(kept))


def is_stop_word(word: str) -> bool:
    return word in ALL_STOP_WORDS or word.isdigit()


def content_words(text: str) -> list[str]:
    """The words that can name something: "mujhe 2 chai chahiye" → ["chai"]."""
    return [word for word in words(text) if not is_stop_word(word)]


def spelling_key(word: str) -> str:
    """One key for the spellings of one word: "tawaa", "tava" → "tava"; "kurtee" → "kurti"; "chaay" → "chai"."""
    key = word
    if key.isascii():
        for written, folded in _SPELLING_FOLDS:
            key = key.replace(written, folded)
        key = _REPEATS.sub(r"\1", key)
        if len(key) > 2 and key.endswith("y"):
            key = key[:-1] + "i"
    else:
        key = _REPEATS.sub(r"\1", key)
    return key


def typos_allowed(key: str) -> int:
    """How many typos a word of this length may carry and still be itself: none in "tea", one in "chai", two
    in "darjeeling"."""
    if len(key) <= 3:
        return 0
    return 1 if len(key) <= 7 else 2


def edit_distance(first: str, second: str, limit: int) -> int:
    """Edits (insert, delete, change, swap two neighbours) from one word to the other; limit + 1 once over limit."""
    if abs(len(first) - len(second)) > limit:
        return limit + 1
    previous_previous: list[int] = []
    previous = list(range(len(second) + 1))
    for i, a in enumerate(first, 1):
        current = [i] + [0] * len(second)
        for j, b in enumerate(second, 1):
            cost = 0 if a == b else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a == second[j - 2] and first[i - 2] == b:
                current[j] = min(current[j], previous_previous[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous_previous, previous = previous, current
    return min(previous[-1], limit + 1)


def typos_between(typed_key: str, known_key: str) -> int | None:
    """The typos between two spelling keys, or None when there are too many for words that short.

    A short word must also keep its first letter: "sari" is not "dari", though one letter apart.
    """
    limit = min(typos_allowed(typed_key), typos_allowed(known_key))
    if typed_key == known_key:
        return 0
    if limit == 0 or (len(known_key) <= SHORT_WORD and typed_key[0] != known_key[0]):
        return None
    distance = edit_distance(typed_key, known_key, limit)
    return distance if distance <= limit else None


def same_word(typed: str, known: str) -> bool:
    """Whether the customer's word is the known word, give or take its spelling and a typo or two."""
    return typed == known or typos_between(spelling_key(typed), spelling_key(known)) is not None


def contains_phrase(typed: Sequence[str], phrase: Sequence[str]) -> bool:
    """Whether the phrase's words appear in a row among the typed words, each give or take a typo."""
    if not phrase or len(phrase) > len(typed):
        return False
    for start in range(len(typed) - len(phrase) + 1):
        if all(same_word(typed[start + offset], word) for offset, word in enumerate(phrase)):
            return True
    return False


def phrases(texts: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    """Phrases as word tuples, read the way `words` reads a customer's text."""
    return tuple(tuple(words(text)) for text in texts if words(text))
