"""What a customer's message asks for, in English, Hinglish, Hindi, Swahili and Portuguese: to start ordering,
to speak to a person, or to stop ordering. Pure functions over the text, tolerant of typos.

A message says something in one of two ways: it contains one of the intent's phrases ("order karna hai",
"talk to a person"), or it is nothing but one of the intent's words and filler ("menu", "hi!!", "cancel
please"). The second rule keeps a bare word from firing inside a longer sentence: "hi, do you deliver to
Pune?" is a question, not the start of an order. A product's name also starts an order; that is
product_match's business, not this module's.
"""

from checkout.whatsapp.customer_text import (
    STOP_WORDS,
    contains_phrase,
    is_stop_word,
    phrases,
    same_word,
    spelling_key,
    words,
)

ORDER_PHRASES = phrases(
    [
        # English
        "want to order",
        "like to order",
        "wanna order",
        "place an order",
        "place order",
        "make an order",
        "new order",
        "want to buy",
        "like to buy",
        "show me the menu",
        "show menu",
        "see the menu",
        "show products",
        "what do you sell",
        "what do you have",
        # Hinglish
        "order karna",
        "order karni",
        "order krna",
        "order dena",
        "order deni",
        "order kar do",
        "kharidna hai",
        "kharidna chahta",
        "kharidna chahti",
        "mangwana hai",
        "kya kya hai",
        "kya milega",
        "menu dikhao",
        "menu bhejo",
        # Hindi
        "ऑर्डर करना",
        "खरीदना है",
        # Swahili
        "nataka kuagiza",
        "ninataka kuagiza",
        "kuagiza",
        "nataka kununua",
        "ningependa kuagiza",
        # Portuguese
        "quero pedir",
        "queria pedir",
        "gostaria de pedir",
        "fazer um pedido",
        "fazer pedido",
        "quero comprar",
        "quero encomendar",
        "ver o cardapio",
    ]
)
ORDER_WORDS = tuple(
    words("hi hii hello hey hallo namaste namaskar habari jambo mambo ola oi menu catalog catalogue cardapio")
    + words("order start buy products kuagiza pedir comprar")
)

PERSON_PHRASES = phrases(
    [
        "talk to a person",
        "talk to someone",
        "talk to somebody",
        "speak to a person",
        "speak to someone",
        "speak with someone",
        "talk to a human",
        "speak to a human",
        "real person",
        "customer care",
        "customer service",
        "customer support",
        "call me",
        "agent",
        "human",
        "representative",
        "insaan se baat",
        "insan se baat",
        "kisi se baat",
        "aadmi se baat",
        "owner se baat",
        "baat karni hai",
        "baat karna hai",
        "call karo",
        "call kijiye",
        "इंसान से बात",
        "बात करनी है",
        "kuongea na mtu",
        "kuzungumza na mtu",
        "mtu halisi",
        "huduma kwa wateja",
        "falar com uma pessoa",
        "falar com alguem",
        "falar com atendente",
        "atendente",
        "humano",
        "pessoa real",
    ]
)

STOP_PHRASES = phrases(
    [
        "stop ordering",
        "stop the order",
        "cancel ordering",
        "cancel the order",
        "cancel order",
        "dont want to order",
        "do not want to order",
        "dont want anything",
        "not now",
        "nevermind",
        "never mind",
        "forget it",
        "band karo",
        "rehne do",
        "rahne do",
        "order nahi karna",
        "nahi chahiye",
        "cancel karo",
        "cancel kar do",
        "रहने दो",
        "sitaki",
        "acha basi",
        "sitisha",
        "ghairi",
        "nao quero mais",
        "cancelar pedido",
        "deixa pra la",
        "desistir",
    ]
)
STOP_WORDS_ALONE = tuple(words("cancel stop exit quit end basta bas basi cancelar parar chega ghairi"))
# A word standing alone is read with typos only when it is long: "stop" must not be "shop", nor "quit" "quilt".
ALONE_TYPOS_FROM_LENGTH = 6

# Asking about an order already placed, not starting one (conversations.py answers these).
ORDER_QUESTION_PHRASES = phrases(
    [
        "my order",
        "mera order",
        "meri order",
        "order kahan",
        "order kab",
        "order status",
        "status of",
        "track",
        "tracking",
        "meu pedido",
        "oda yangu",
        "iko wapi",
    ]
)


# Saying the order is paid: answered from the order's payment record, never taken at the customer's word.
PAID_PHRASES = phrases(
    [
        # English
        "i paid",
        "i have paid",
        "ive paid",
        "already paid",
        "paid already",
        "payment done",
        "payment made",
        "payment sent",
        "payment is done",
        "made the payment",
        "sent the payment",
        "sent the money",
        # Hinglish
        "maine pay kar diya",
        "pay kar diya",
        "pay kr diya",
        "payment kar diya",
        "payment kr diya",
        "paisa bhej diya",
        "paise bhej diye",
        "paisa bhej diye",
        "paise bhej diya",
        "पैसे भेज दिए",
        "पेमेंट कर दिया",
        # Swahili
        "nimelipa",
        "nimeshalipa",
        "tumelipa",
        "nimetuma pesa",
        # Portuguese
        "ja paguei",
        "paguei",
        "fiz o pix",
        "fiz o pagamento",
        "pix feito",
        "pagamento feito",
    ]
)
PAID_WORDS_ALONE = tuple(words("paid"))
# "not paid yet", "pay nahi kiya", "bado sijalipa", "não paguei": the customer says the opposite.
NOT_PAID_WORDS = frozenset(words("not didnt havent hasnt nahi nahin nhi bado sijalipa hatujalipa nao ainda"))


# Something is wrong with an order that came: the return flow starts (checkout/whatsapp/return_chat.py).
RETURN_PHRASES = phrases(
    [
        # English
        "problem with my order",
        "problem with the order",
        "issue with my order",
        "want to return",
        "like to return",
        "return my order",
        "return the order",
        "return this",
        "arrived damaged",
        "came damaged",
        "is damaged",
        "is broken",
        "wrong item",
        # Hinglish
        "wapas karna",
        "return karna",
        "kharab hai",
        "toota hua",
        "galat item",
        "galat saman",
        # Hindi
        "वापस करना",
        "खराब है",
        # Swahili
        "nataka kurudisha",
        "imeharibika",
        "bidhaa mbaya",
        "tatizo na oda",
        # Portuguese
        "quero devolver",
        "problema com meu pedido",
        "problema com o pedido",
        "veio quebrado",
        "veio errado",
        "chegou quebrado",
    ]
)
# "No problem!" is a thank-you, not a return.
NO_PROBLEM_PHRASES = phrases(["no problem", "not a problem", "koi problem nahi", "hakuna tatizo", "sem problema"])
RETURN_WORDS_ALONE = tuple(
    words("problem return damaged broken issue wapas kharab tatizo kurudisha problema devolver devolucao quebrado")
)


def wants_to_order(text: str) -> bool:
    """ "hi", "menu", "I want to order", "order karna hai", "nataka kuagiza", "quero pedir" → True."""
    typed = words(text)
    if not typed or _asks_about_an_order(typed) or _says(typed, STOP_PHRASES, STOP_WORDS_ALONE):
        return False
    if _says(typed, PERSON_PHRASES, ()):
        return False
    return _says(typed, ORDER_PHRASES, ORDER_WORDS)


def wants_a_person(text: str) -> bool:
    """ "talk to a person", "agent", "insaan se baat karni hai", "falar com atendente" → True."""
    return _says(words(text), PERSON_PHRASES, ())


def wants_to_stop_ordering(text: str) -> bool:
    """ "cancel", "stop ordering", "rehne do", "sitaki", "não quero mais" → True; "cancel the tiffin" → False."""
    return _says(words(text), STOP_PHRASES, STOP_WORDS_ALONE)


def wants_to_return(text: str) -> bool:
    """ "problem", "return", "damaged", "wrong item", "kharab hai", "imeharibika", "quero devolver" → True;
    "what is your return policy?" → False (a question about returns, not a return)."""
    typed = words(text)
    if any(contains_phrase(typed, phrase) for phrase in NO_PROBLEM_PHRASES):
        return False
    return _says(typed, RETURN_PHRASES, RETURN_WORDS_ALONE)


def says_paid(text: str) -> bool:
    """ "I paid", "payment done", "maine pay kar diya", "nimelipa", "já paguei", "fiz o pix" → True;
    "I have not paid yet", "how do I pay?" → False."""
    typed = words(text)
    if any(word in NOT_PAID_WORDS for word in typed):
        return False
    return _says(typed, PAID_PHRASES, PAID_WORDS_ALONE)


def _asks_about_an_order(typed: list[str]) -> bool:
    return any(contains_phrase(typed, phrase) for phrase in ORDER_QUESTION_PHRASES)


def _says(typed: list[str], intent_phrases, alone_words) -> bool:
    if any(contains_phrase(typed, phrase) for phrase in intent_phrases):
        return True
    said = [word for word in typed if any(_is_alone_word(word, known) for known in alone_words)]
    return bool(said) and all(word in said or is_stop_word(word) for word in typed)


def _is_alone_word(typed: str, known: str) -> bool:
    if spelling_key(typed) == spelling_key(known):
        return True
    return len(known) >= ALONE_TYPOS_FROM_LENGTH and same_word(typed, known)


# The languages the chat answers in, and the words that give each away. English words shared with another
# language ("me", "do", "a") give nothing away; greetings and "menu" are said in every language.
CHAT_LANGUAGES = ("en", "hinglish", "sw", "pt")
_NEUTRAL = frozenset(words("hi hii hello hey hallo ok okay menu order orders catalog catalogue please thanks yes no"))
_MARKERS: dict[str, frozenset[str]] = {
    "hinglish": (
        STOP_WORDS["hinglish"] | STOP_WORDS["hi"] | frozenset(words("karna krna kharidna dikhao baat diya paisa"))
    )
    - STOP_WORDS["en"],
    "sw": (STOP_WORDS["sw"] | frozenset(words("kuagiza kununua sitaki basi nimelipa nimeshalipa"))) - STOP_WORDS["en"],
    "pt": (STOP_WORDS["pt"] | frozenset(words("cardapio encomendar atendente paguei pix"))) - STOP_WORDS["en"],
}
_MARKERS["en"] = STOP_WORDS["en"] - _NEUTRAL - _MARKERS["hinglish"] - _MARKERS["sw"] - _MARKERS["pt"]


def language_of(text: str) -> str | None:
    """The chat language a message is written in ("order karna hai" → "hinglish", "quero pedir" → "pt"), or
    None when its words could be any language's ("hi", "menu", a product's name)."""
    typed = words(text)
    scores = {language: sum(word in _MARKERS[language] for word in typed) for language in CHAT_LANGUAGES}
    if any("\u0900" <= character <= "\u097f" for character in text):
        scores["hinglish"] += 2  # Devanagari: answered in Hinglish, the chat's Hindi
    best = max(CHAT_LANGUAGES, key=lambda language: (scores[language], language != "en"))
    return best if scores[best] > 0 else None
