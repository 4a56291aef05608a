"""What the ordering chat says, in each language it answers in: English, Hinglish, Swahili and Portuguese.

One place for every sentence and label of the flow (checkout/whatsapp/chat_order.py). A text missing in a
language falls back to English; placeholders are named in braces and filled by `say`. Labels of buttons and
rows are shortened to Meta's limits where they are sent (interactive.py), never here.

The shop may write its own text over any of these, per language (StoreSettings.chat_texts, checked by
checkout/whatsapp/chat_text_editing.py); `text_order` is the one place that decides which text is used.
"""

from collections.abc import Mapping

ENGLISH = "en"
LANGUAGES = {"en": "English", "hinglish": "Hinglish", "sw": "Swahili", "pt": "Portuguese"}

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "choose_product": "Here is what we have. Pick one:",
        "choose_category": "What would you like to order? Pick a category:",
        "choose_any": "What would you like to order? Pick one:",
        "nothing_to_sell": "Sorry, nothing can be ordered right now. Someone from the shop can help: just write here.",
        "cart_kept": "Your cart from before is kept ({count} items).",
        "cart_row": "Your cart",
        "button_choose": "Choose",
        "button_categories": "Categories",
        "choose_option": "{product}: which {option}?",
        "choose_quantity": "How many {item}? ({price} each)",
        "button_quantity": "Quantity",
        "more_than_ten": "10 or more",
        "what_next": "What would you like to do next?",
        "type_quantity": "Type how many {item} you want (up to {most}).",
        "only_left": "Only {left} of {item} left. Type a number up to {left}.",
        "added": "Added: {quantity} × {item}.\nYour cart: {count} items, {subtotal}.",
        "not_added": "Sorry, {problem}",
        "add_more": "Add more",
        "view_cart": "View cart",
        "checkout": "Checkout",
        "cart": "Your cart:\n{lines}\nSubtotal: {subtotal}\n\nTap an item to change or remove it.",
        "cart_empty": "Your cart is empty.",
        "line_menu": "{item}: {quantity} in your cart.",
        "remove": "Remove",
        "change_quantity": "Change quantity",
        "back_to_cart": "Back to cart",
        "removed": "Removed {item}.",
        "ask_name": "What name should we put on the order?",
        "use_name": "Use {name}",
        "ask_fulfilment": "Delivery or pickup?",
        "delivery": "Delivery",
        "pickup": "Pickup",
        "ask_address": "Please type your delivery address. You can use several lines.",
        "ask_address_or_last": "Please type your delivery address, or use the address from your last order?\n\n{address}",
        "use_last_address": "Use this address",
        "ask_payment": "How will you pay?",
        "summary": "Please check your order:\n\n{lines}\n\n{money}\n\n{fulfilment}\nPayment: {payment}\nName: {name}",
        "subtotal": "Subtotal: {amount}",
        "delivery_fee": "Delivery: {amount}",
        "discount": "Discount ({code}): −{amount}",
        "total": "*Total: {amount}*",
        "deliver_to": "Delivery to:\n{address}",
        "pickup_at": "Pickup at: {address}",
        "confirm": "Confirm",
        "cancel": "Cancel",
        "cancelled": "Okay, nothing was ordered and your cart is empty. Write “menu” any time to start again.",
        "not_placed": "Sorry, the order could not be placed: {problem}\nYour cart is kept.",
        "prices_changed": "The prices changed since the summary. Here it is again with today's prices.",
        "already_placed": "This order is already placed: {reference}. Follow it here: {url}",
        "summary_outdated": "That summary is out of date. Here is where your order stands:",
        "sorry_again": "Sorry, I didn't understand that.",
        "stopped": "Okay, we've stopped. Your cart is kept: write “menu” any time to carry on.",
        "handed_over": "Okay, someone from the shop will reply here soon.",
        "handed_over_confused": "Sorry, I'm not understanding. Someone from the shop will reply here soon.",
        "unknown_skus": "We couldn't find these items: {skus}.",
        "nothing_added": "None of these items can be ordered now.",
        "name_too_long": "That name is too long: please use at most {most} characters.",
        "address_too_long": "That address is too long: please use at most {most} characters.",
        "items": "{count} items",
    },
    "hinglish": {
        "choose_product": "Yeh rahe options. Ek chuniye:",
        "choose_category": "Aap kya order karna chahenge? Category chuniye:",
        "choose_any": "Aap kya order karna chahenge? Ek chuniye:",
        "nothing_to_sell": "Maaf kijiye, abhi kuch order nahi ho sakta. Yahan likhiye, shop se koi madad karega.",
        "cart_kept": "Aapka pichhla cart save hai ({count} items).",
        "cart_row": "Aapka cart",
        "button_choose": "Chuniye",
        "choose_option": "{product}: kaunsa {option}?",
        "choose_quantity": "Kitne {item} chahiye? ({price} har ek)",
        "button_quantity": "Kitne",
        "more_than_ten": "10 ya zyada",
        "what_next": "Ab aage kya karein?",
        "type_quantity": "Kitne {item} chahiye, number likhiye ({most} tak).",
        "only_left": "Sirf {left} {item} bache hain. {left} tak ka number likhiye.",
        "added": "Cart mein daal diya: {quantity} × {item}.\nAapka cart: {count} items, {subtotal}.",
        "not_added": "Maaf kijiye, {problem}",
        "add_more": "Aur add karein",
        "view_cart": "Cart dekhein",
        "checkout": "Order karein",
        "cart": "Aapka cart:\n{lines}\nSubtotal: {subtotal}\n\nBadalne ya hatane ke liye item par tap karein.",
        "cart_empty": "Aapka cart khaali hai.",
        "line_menu": "{item}: cart mein {quantity}.",
        "remove": "Hatayein",
        "change_quantity": "Quantity badlein",
        "back_to_cart": "Cart par wapas",
        "removed": "{item} hata diya.",
        "ask_name": "Order kis naam se karein?",
        "use_name": "{name} naam se",
        "ask_fulfilment": "Delivery ya pickup?",
        "ask_address": "Apna delivery address likhiye. Kai lines mein likh sakte hain.",
        "ask_address_or_last": "Apna delivery address likhiye, ya pichhle order wala address use karein?\n\n{address}",
        "use_last_address": "Yahi address",
        "ask_payment": "Payment kaise karenge?",
        "summary": "Apna order check kijiye:\n\n{lines}\n\n{money}\n\n{fulfilment}\nPayment: {payment}\nNaam: {name}",
        "deliver_to": "Delivery yahan:\n{address}",
        "pickup_at": "Pickup yahan se: {address}",
        "cancel": "Cancel karein",
        "cancelled": "Theek hai, koi order nahi hua aur cart khaali hai. Dobara shuru karne ke liye “menu” likhiye.",
        "not_placed": "Maaf kijiye, order nahi ho paya: {problem}\nAapka cart save hai.",
        "prices_changed": "Summary ke baad daam badal gaye. Aaj ke daam ke saath phir se dekhiye.",
        "already_placed": "Yeh order ho chuka hai: {reference}. Yahan dekhiye: {url}",
        "sorry_again": "Maaf kijiye, samajh nahi aaya.",
        "stopped": "Theek hai, ruk gaye. Aapka cart save hai: “menu” likh kar kabhi bhi aage badhiye.",
        "handed_over": "Theek hai, shop se koi jaldi yahan jawab dega.",
        "handed_over_confused": "Maaf kijiye, samajh nahi aa raha. Shop se koi jaldi yahan jawab dega.",
        "unknown_skus": "Yeh items nahi mile: {skus}.",
    },
    "sw": {
        "choose_product": "Hivi ndivyo tulivyo navyo. Chagua kimoja:",
        "choose_category": "Ungependa kuagiza nini? Chagua aina:",
        "choose_any": "Ungependa kuagiza nini? Chagua kimoja:",
        "cart_kept": "Kikapu chako cha awali kimehifadhiwa (bidhaa {count}).",
        "cart_row": "Kikapu chako",
        "button_choose": "Chagua",
        "choose_option": "{product}: {option} gani?",
        "choose_quantity": "{item} ngapi? ({price} kila moja)",
        "button_quantity": "Idadi",
        "more_than_ten": "10 au zaidi",
        "type_quantity": "Andika idadi ya {item} unayotaka (hadi {most}).",
        "only_left": "Zimebaki {left} tu za {item}. Andika namba hadi {left}.",
        "added": "Imeongezwa: {quantity} × {item}.\nKikapu chako: bidhaa {count}, {subtotal}.",
        "add_more": "Ongeza zaidi",
        "view_cart": "Ona kikapu",
        "checkout": "Lipia",
        "cart": "Kikapu chako:\n{lines}\nJumla ndogo: {subtotal}\n\nGusa bidhaa kuibadilisha au kuiondoa.",
        "cart_empty": "Kikapu chako ni tupu.",
        "remove": "Ondoa",
        "change_quantity": "Badilisha idadi",
        "back_to_cart": "Rudi kikapuni",
        "removed": "{item} imeondolewa.",
        "ask_name": "Tuandike jina gani kwenye oda?",
        "use_name": "Tumia {name}",
        "ask_fulfilment": "Tukuletee au utachukua mwenyewe?",
        "delivery": "Tuletee",
        "pickup": "Nitachukua",
        "ask_address": "Tafadhali andika anwani ya kukuletea. Unaweza kutumia mistari kadhaa.",
        "ask_address_or_last": "Andika anwani ya kukuletea, au tutumie anwani ya oda yako iliyopita?\n\n{address}",
        "use_last_address": "Tumia anwani hii",
        "ask_payment": "Utalipa vipi?",
        "summary": "Tafadhali hakiki oda yako:\n\n{lines}\n\n{money}\n\n{fulfilment}\nMalipo: {payment}\nJina: {name}",
        "total": "*Jumla: {amount}*",
        "confirm": "Thibitisha",
        "cancel": "Ghairi",
        "cancelled": "Sawa, hakuna kilichoagizwa na kikapu ni tupu. Andika “menu” wakati wowote kuanza tena.",
        "not_placed": "Samahani, oda haikuweza kuwekwa: {problem}\nKikapu chako kimehifadhiwa.",
        "already_placed": "Oda hii tayari imewekwa: {reference}. Ifuatilie hapa: {url}",
        "sorry_again": "Samahani, sijaelewa.",
        "stopped": "Sawa, tumesimama. Kikapu chako kimehifadhiwa: andika “menu” kuendelea.",
        "handed_over": "Sawa, mtu wa duka atakujibu hapa hivi karibuni.",
        "handed_over_confused": "Samahani, sielewi. Mtu wa duka atakujibu hapa hivi karibuni.",
        "unknown_skus": "Hatukupata bidhaa hizi: {skus}.",
    },
    "pt": {
        "choose_product": "Aqui está o que temos. Escolha um:",
        "choose_category": "O que você gostaria de pedir? Escolha uma categoria:",
        "choose_any": "O que você gostaria de pedir? Escolha um:",
        "cart_kept": "Seu carrinho anterior foi guardado ({count} itens).",
        "cart_row": "Seu carrinho",
        "button_choose": "Escolher",
        "button_categories": "Categorias",
        "choose_option": "{product}: qual {option}?",
        "choose_quantity": "Quantos {item}? ({price} cada)",
        "button_quantity": "Quantidade",
        "more_than_ten": "10 ou mais",
        "type_quantity": "Digite quantos {item} você quer (até {most}).",
        "only_left": "Só restam {left} de {item}. Digite um número até {left}.",
        "added": "Adicionado: {quantity} × {item}.\nSeu carrinho: {count} itens, {subtotal}.",
        "add_more": "Adicionar mais",
        "view_cart": "Ver carrinho",
        "checkout": "Finalizar",
        "cart": "Seu carrinho:\n{lines}\nSubtotal: {subtotal}\n\nToque num item para mudar ou remover.",
        "cart_empty": "Seu carrinho está vazio.",
        "remove": "Remover",
        "change_quantity": "Mudar quantidade",
        "back_to_cart": "Voltar ao carrinho",
        "removed": "{item} removido.",
        "ask_name": "Em nome de quem fazemos o pedido?",
        "use_name": "Usar {name}",
        "ask_fulfilment": "Entrega ou retirada?",
        "delivery": "Entrega",
        "pickup": "Retirada",
        "ask_address": "Digite o endereço de entrega. Pode usar várias linhas.",
        "ask_address_or_last": "Digite o endereço de entrega, ou usar o endereço do seu último pedido?\n\n{address}",
        "use_last_address": "Usar este endereço",
        "ask_payment": "Como vai pagar?",
        "summary": "Confira seu pedido:\n\n{lines}\n\n{money}\n\n{fulfilment}\nPagamento: {payment}\nNome: {name}",
        "delivery_fee": "Entrega: {amount}",
        "discount": "Desconto ({code}): −{amount}",
        "deliver_to": "Entrega em:\n{address}",
        "pickup_at": "Retirada em: {address}",
        "confirm": "Confirmar",
        "cancel": "Cancelar",
        "cancelled": "Tudo bem, nada foi pedido e o carrinho está vazio. Escreva “menu” para começar de novo.",
        "not_placed": "Desculpe, o pedido não pôde ser feito: {problem}\nSeu carrinho foi guardado.",
        "already_placed": "Este pedido já foi feito: {reference}. Acompanhe aqui: {url}",
        "sorry_again": "Desculpe, não entendi.",
        "stopped": "Tudo bem, paramos. Seu carrinho foi guardado: escreva “menu” para continuar.",
        "handed_over": "Tudo bem, alguém da loja vai responder aqui em breve.",
        "handed_over_confused": "Desculpe, não estou entendendo. Alguém da loja vai responder aqui em breve.",
        "unknown_skus": "Não encontramos estes itens: {skus}.",
        "items": "{count} itens",
    },
}


def _shop_text(overrides: Mapping | None, language: str, key: str) -> str:
    texts = (overrides or {}).get(language)
    text = texts.get(key) if isinstance(texts, Mapping) else None
    return text if isinstance(text, str) and text.strip() else ""


def text_order(language: str, key: str, overrides: Mapping | None = None) -> list[str]:
    """The texts that may be said for `key`, best first: the shop's in the customer's language, ours in that
    language, the shop's English, ours in English. `overrides` is the shop's {language: {key: text}}."""
    candidates = (
        _shop_text(overrides, language, key),
        TEXTS.get(language, {}).get(key, ""),
        _shop_text(overrides, ENGLISH, key),
        TEXTS[ENGLISH][key],
    )
    return [text for text in candidates if text]


def text_when_empty(language: str, key: str, overrides: Mapping | None = None) -> str:
    """What the customer reads for `key` in `language` when the shop has no text of its own in that language."""
    others = {other: texts for other, texts in (overrides or {}).items() if other != language}
    return text_order(language, key, others)[0]


def say(language: str, key: str, overrides: Mapping | None = None, /, **values) -> str:
    """The text `key` in the customer's language, the shop's own wording first (see `text_order`), values filled in.

    A shop's text that cannot be filled (saved before a rule changed) is passed over for the next one.
    """
    for text in text_order(language, key, overrides)[:-1]:
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError, AttributeError):
            continue
    return TEXTS[ENGLISH][key].format(**values)
