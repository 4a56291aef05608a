/*! Chatout: WhatsApp chat button and cart for any site (the cart is kept by the shop's server). <script src="…/static/widget/chatout.js" data-store-key="chw_…" async>
 * Options, API and events: see the shop's admin, Website plugin. */
(() => {
  'use strict';
  const W = window, D = document;
  const log = (e) => { try { console.warn('[chatout]', e); } catch (_) {} };
  // Every way in goes through here: our error must never become the page's.
  const safe = (fn) => function () { try { return fn.apply(this, arguments); } catch (e) { log(e); } };
  if (W.Chatout && W.Chatout.version) return; // pasted twice

  const script = D.currentScript || D.querySelector('script[data-store-key]');
  if (!script) return log('script tag not found');
  const data = script.dataset, SRC = script.src;
  const BASE = SRC.includes('/static/widget/') ? SRC.split('/static/widget/')[0] : new URL(SRC).origin;
  const KEY = data.storeKey || '', MODE = data.mode === 'chat' ? 'chat' : 'cart';
  const LANG = D.documentElement.lang || '', MAX_QTY = 99;

  const NAMES = ('chat cart close empty remove qty name phone how delivery pickup address pay cod transfer send fail ' +
    'retry fix done app web qr status reply added msg subtotal total code site').split(' ');
  const WORDS = {
    en: "Chat with us on WhatsApp|Your order|Close|Your cart is empty.|Remove|Quantity|Your name|WhatsApp number|How do you want it?|Delivery|Pickup|Delivery address|Payment|Cash on delivery|Bank / UPI transfer|Order on WhatsApp|Couldn't reach the shop.|Retry|Please check the highlighted fields.|Order {r} is ready. Send it on WhatsApp to confirm.|Open WhatsApp|Open WhatsApp Web|Show a QR code for your phone|Order status|We'll reply from {t}|Added to your order|Hi! I have a question about {title} {url}|Subtotal|Total|Discount code|Continue on the shop's site",
    hi: 'WhatsApp पर हमसे बात करें|आपका ऑर्डर|बंद करें|आपका कार्ट खाली है।|हटाएँ|मात्रा|आपका नाम|WhatsApp नंबर|आप इसे कैसे लेना चाहेंगे?|डिलीवरी|पिकअप|डिलीवरी का पता|भुगतान|डिलीवरी पर नकद|बैंक / UPI ट्रांसफ़र|WhatsApp पर ऑर्डर करें|दुकान तक नहीं पहुँच सके।|फिर से कोशिश करें|कृपया चिह्नित जानकारी जाँचें।|ऑर्डर {r} तैयार है। पुष्टि के लिए इसे WhatsApp पर भेजें।|WhatsApp खोलें|WhatsApp Web खोलें|फ़ोन के लिए QR कोड दिखाएँ|ऑर्डर की स्थिति|हम {t} से जवाब देंगे|ऑर्डर में जोड़ा गया|नमस्ते! मुझे {title} के बारे में पूछना है {url}|उप-योग|कुल|डिस्काउंट कोड|दुकान की साइट पर जारी रखें',
    sw: 'Ongea nasi kwenye WhatsApp|Oda yako|Funga|Kikapu chako ni tupu.|Ondoa|Idadi|Jina lako|Namba ya WhatsApp|Ungependa kuipataje?|Kuletewa|Kuchukua dukani|Anwani ya kuletewa|Malipo|Lipa ukipokea|Benki / uhamisho wa pesa|Agiza kwa WhatsApp|Imeshindwa kufikia duka.|Jaribu tena|Tafadhali angalia sehemu zilizowekwa alama.|Oda {r} iko tayari. Itume kwa WhatsApp ili kuithibitisha.|Fungua WhatsApp|Fungua WhatsApp Web|Onyesha msimbo wa QR kwa simu yako|Hali ya oda|Tutajibu kuanzia {t}|Imeongezwa kwenye oda|Habari! Nina swali kuhusu {title} {url}|Jumla ndogo|Jumla|Msimbo wa punguzo|Endelea kwenye tovuti ya duka',
    pt: 'Fale conosco no WhatsApp|Seu pedido|Fechar|Seu carrinho está vazio.|Remover|Quantidade|Seu nome|Número de WhatsApp|Como quer receber?|Entrega|Retirada|Endereço de entrega|Pagamento|Pagamento na entrega|Transferência bancária|Pedir pelo WhatsApp|Não foi possível falar com a loja.|Tentar de novo|Confira os campos destacados.|O pedido {r} está pronto. Envie pelo WhatsApp para confirmar.|Abrir WhatsApp|Abrir WhatsApp Web|Mostrar um QR code para o celular|Status do pedido|Responderemos a partir de {t}|Adicionado ao pedido|Olá! Tenho uma dúvida sobre {title} {url}|Subtotal|Total|Cupom de desconto|Continuar no site da loja',
  };
  const t = {}, english = WORDS.en.split('|');
  const chosen = (WORDS[LANG.toLowerCase().split('-')[0]] || WORDS.en).split('|');
  NAMES.forEach((name, i) => (t[name] = chosen[i] || english[i]));

  const memory = {};
  const store = {
    get(k) {
      try { return JSON.parse(localStorage.getItem('chatout.' + k)); } catch (e) { return memory[k]; }
    },
    set(k, v) {
      memory[k] = v;
      try { v == null ? localStorage.removeItem('chatout.' + k) : localStorage.setItem('chatout.' + k, JSON.stringify(v)); }
      catch (e) {}
    },
  };
  const emit = (name, detail) => D.dispatchEvent(new CustomEvent('chatout:' + name, { detail }));
  const str = (v) => (v == null ? '' : String(v).trim());
  const json = (v) => JSON.stringify(v || null);

  // ---- The cart: kept by the shop's server (its token in localStorage); `cart` is the last copy seen,
  // changed here at once so the API answers synchronously, then sent to the server (push) ----
  const normOptions = (o) => {
    if (!o || typeof o !== 'object' || !Object.keys(o).length) return null;
    const sorted = {};
    Object.keys(o).sort().forEach((k) => (sorted[k] = String(o[k])));
    return sorted;
  };
  const optionsLabel = (o) => (o ? Object.keys(o).map((k) => k + ' ' + o[k]).join(', ') : '');
  const clampQty = (q) => Math.max(1, Math.min(MAX_QTY, parseInt(q, 10) || 1));
  const lines = () => { const c = store.get('cart'); return Array.isArray(c) ? c.filter((l) => l && l.sku && l.qty > 0) : []; };
  const cartCopy = () => lines().map((l) => ({ sku: l.sku, qty: l.qty, options: l.options || null }));
  const itemCount = () => lines().reduce((n, l) => n + l.qty, 0);
  let view = 'form';

  function changed() {
    emit('cart-changed', { items: cartCopy(), count: itemCount() });
    render();
  }
  function saveCart(list) {
    store.set('cart', list.length ? list : null);
    view = 'form';
    limited = [];
    changed();
    push();
    return cartCopy();
  }
  function addItem(item) {
    item = item || {};
    const sku = str(item.sku);
    if (!sku || sku.length > 64) throw new Error('addItem needs a sku');
    if (refused) throw new Error('no cart here: ' + refused);
    const line = { sku, qty: clampQty(item.qty != null ? item.qty : item.quantity), options: normOptions(item.options) };
    const list = lines(), known = resolve(line);
    const same = list.find((l) => (l.sku === sku && json(l.options) === json(line.options)) || (known && lineSku(l) === known.sku));
    if (same) same.qty = Math.min(MAX_QTY, same.qty + line.qty);
    else if (list.length < 100) list.push(line);
    else throw new Error('the cart is full');
    announce(t.added);
    return saveCart(list);
  }
  // The page names a product by its own SKU; once the shop has answered, the line carries its variant's SKU.
  const named = (line, sku) => line.sku === sku || (catalog && (catalog['#' + sku] || []).some((v) => v.sku === line.sku));
  const removeItem = (sku) => saveCart(lines().filter((l) => !named(l, str(sku))));
  const clear = () => { store.set('pending', null); return saveCart([]); }; // new cart, new Idempotency-Key

  // Make the server's cart hold the lines here (one push at a time; changes meanwhile push again), then
  // take its answer as the copy: its SKUs, what the stock allowed, its totals and notes.
  let cart = null, syncing = null, again = false, limited = []; // limited: what the stock allowed, told until the cart changes
  const code = () => (form ? str(form.elements.coupon_code.value) : '');
  const carts = (method, path, body) => call('/api/v1/carts' + path + '?delivery=' + (form ? form.elements.delivery.value || 'delivery' : 'delivery') + (code() ? '&coupon_code=' + encodeURIComponent(code()) : ''), {
    method, headers: { 'Content-Type': 'application/json', 'X-Chatout-Widget-Key': KEY }, body: body && JSON.stringify(body),
  });
  const gone = (r) => r.s === 404 || (r.s === 200 && r.j.ordered);
  function push() {
    if (refused || !config) return Promise.resolve();
    if (syncing) return (again = true), syncing;
    syncing = (async () => { do { again = false; await pushOnce(); } while (again); })()
      .catch(log).finally(() => { syncing = null; render(); });
    return syncing;
  }
  async function pushOnce() {
    await loadCatalog();
    const want = {}, have = {};
    lines().forEach((l) => (want[lineSku(l)] = Math.min(MAX_QTY, (want[lineSku(l)] || 0) + l.qty)));
    let token = store.get('token'), r = token ? await carts('GET', '/' + token) : { s: 404 };
    if (gone(r)) {
      if (!lines().length) return settle(null);
      r = await carts('POST', '');
      token = r.j.token;
    }
    if (r.s >= 300) throw new Error('cart: HTTP ' + r.s);
    store.set('token', token);
    r.j.lines.forEach((l) => (have[l.sku] = l.quantity));
    for (const sku of new Set(Object.keys(have).concat(Object.keys(want)))) {
      if (have[sku] === want[sku]) continue;
      const path = '/' + token + '/lines' + (sku in have ? '/' + encodeURIComponent(sku) : '');
      const next = await carts(!want[sku] ? 'DELETE' : sku in have ? 'PUT' : 'POST', path, want[sku] && { sku, quantity: want[sku] });
      if (next.s === 200) limited.push(...next.j.notes.filter((n) => n.kind === 'limited')), (r = next);
      else if (next.s === 409 || next.s === 422) limited.push({ message: next.j.error.message }); // this line is left out
      else throw new Error('cart: HTTP ' + next.s);
    }
    if (!again) settle(Object.assign({}, r.j, { notes: limited.concat(r.j.notes) }));
  }
  function settle(answer) {
    cart = answer;
    if (!answer) store.set('token', null);
    store.set('cart', answer && answer.lines.length ? answer.lines.map((l) => ({ sku: l.sku, qty: l.quantity, options: null })) : null);
    changed();
  }
  async function pull() {
    const token = store.get('token');
    let r = { s: 0 };
    if (token && config && !refused) try { r = await carts('GET', '/' + token); } catch (e) { log(e); }
    if (gone(r)) store.set('token', null), r.j.ordered && store.set('cart', null);
    if (r.s === 200 && !r.j.ordered) settle(Object.assign({}, r.j, { notes: limited.concat(r.j.notes) }));
    else push();
  }

  // ---- Only the server this script came from ----
  async function call(path, init) {
    const abort = new AbortController(), timer = setTimeout(() => abort.abort(), 20000);
    try {
      const response = await fetch(BASE + path, Object.assign({ credentials: 'omit', signal: abort.signal }, init));
      let body = {};
      try { body = (await response.json()) || {}; } catch (e) {}
      return { s: response.status, j: body };
    } finally {
      clearTimeout(timer);
    }
  }

  // Without the shop's answer the widget is a chat button only (`refused` says why), with the number
  // from the last good config or the snippet's data-phone: never a cart that can't be ordered.
  let config = null, refused = '';
  const lastGood = store.get('config') || {};
  async function loadConfig() {
    let r = { s: 0, j: {} };
    try { r = await call('/api/v1/widget/config?key=' + encodeURIComponent(KEY)); } catch (e) {}
    if (r.s === 200) {
      config = r.j;
      store.set('config', { numbers: config.numbers, rotation: config.rotation, greeting: config.greeting });
    } else {
      refused = r.s ? (r.j.error && r.j.error.message) || 'HTTP ' + r.s : "can't reach the shop at " + BASE;
      log('chat button only, no cart: ' + refused);
    }
    render();
  }

  let catalog = null, catalogLoading = null;
  function loadCatalog() {
    catalogLoading = catalogLoading || call('/api/v1/products').then((r) => {
      if (r.s !== 200) throw new Error('products: HTTP ' + r.s);
      const index = {};
      (r.j.products || []).forEach((p) => {
        index['#' + p.sku] = (p.variants || []).map((v) => (index[v.sku] = {
          sku: v.sku, name: p.name, label: optionsLabel(v.options), display: v.price_display,
          options: normOptions(v.options),
        }));
      });
      catalog = index;
      render();
    }).catch((e) => { catalogLoading = null; log(e); });
    return catalogLoading;
  }
  function resolve(line) {
    if (!catalog) return null;
    if (catalog[line.sku]) return catalog[line.sku];
    const variants = catalog['#' + line.sku] || [];
    return variants.length === 1 ? variants[0] : variants.find((v) => json(v.options) === json(line.options));
  }
  const lineSku = (line) => (resolve(line) || line).sku;

  // ---- One Idempotency-Key per cart, kept until the shop has answered for sure ----
  const newKey = () => 'chw-' + Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => (b + 256).toString(16).slice(1)).join('');
  const errorCode = (r) => (r.j.error && r.j.error.code) || '';
  // No final answer: the order may exist, so only the same key may be used again.
  const unsure = (r) => !r.s || r.s >= 500 || r.s === 429 || errorCode(r) === 'request_in_progress';

  async function send(body, pending) {
    let r = { s: 0, j: {} };
    try {
      const headers = { 'Content-Type': 'application/json', 'X-Chatout-Widget-Key': KEY, 'Idempotency-Key': pending.k };
      r = await call('/api/v1/carts/' + pending.t + '/order', { method: 'POST', headers, body: JSON.stringify(body) });
    } catch (e) { log(e); }
    if (unsure(r)) {
      // Every request of unknown fate: one of them may hold the key at the shop.
      const sent = JSON.stringify(body);
      pending.b = (pending.b || []).filter((b) => JSON.stringify(b) !== sent).concat([body]).slice(-5);
      store.set('pending', pending);
    }
    return r;
  }
  async function place(body) {
    // The key goes with the cart it was first sent for: after a lost answer, that cart's order is the answer.
    const pending = store.get('pending') || { k: newKey(), t: store.get('token') };
    store.set('pending', pending);
    const r = await send(body, pending);
    // An earlier request got through and the cart changed since: ask for that answer.
    for (const earlier of errorCode(r) === 'idempotency_key_reused' ? pending.b || [] : []) {
      const answer = await send(earlier, pending);
      if (errorCode(answer) === 'idempotency_key_reused') continue;
      if (answer.s < 300 || unsure(answer)) return answer;
      store.set('pending', { k: newKey(), t: store.get('token') }); // it made no order
      return send(body, store.get('pending'));
    }
    return r;
  }

  let busy = false;
  async function checkout(details, fromDrawer) {
    details = details || {};
    if (refused) throw new Error('no cart here: ' + refused);
    if (busy) throw new Error('an order is already being sent');
    if (!lines().length) throw new Error(t.empty);
    busy = true;
    sending(true);
    let r;
    try {
      await push();
      const delivery = details.delivery === 'pickup' ? 'pickup' : 'delivery';
      const customer = { name: str(details.name), phone: str(details.phone) };
      if (delivery === 'delivery') customer.address = str(details.address);
      const body = { customer, delivery };
      if (details.payment_method) body.payment_method = str(details.payment_method);
      if (str(details.coupon_code)) body.coupon_code = str(details.coupon_code);
      if (details.consent === true || details.consent === 'on') body.consent = true; // the shop's wording, ticked
      r = await place(body);
    } finally {
      busy = false;
      sending(false);
    }
    const order = r.j;
    if (r.s >= 200 && r.s < 300 && order.reference) {
      store.set('pending', null);
      store.set('cart', null);
      store.set('token', null);
      cart = null;
      view = 'done';
      changed();
      showOrder(order);
      emit('order-created', { reference: order.reference, total_minor: order.total_minor, currency: order.currency });
      const link = order.whatsapp && order.whatsapp.app_url;
      // Phones go from the page itself: a window opened after an await would be blocked.
      if (fromDrawer && link && !isDesktop()) W.location.assign(link);
      return order;
    }
    const error = r.j.error || {}, retry = unsure(r);
    if (!retry) store.set('pending', null); // a final "no": next time is a new request
    const failure = { status: r.s, code: error.code || 'network_error', message: error.message || t.fail, fields: error.fields || {}, retry };
    showErrors(failure);
    emit('order-failed', failure);
    throw Object.assign(new Error(failure.message), failure);
  }

  // ---- The chat button ----
  const randomPick = Math.random();
  function chatNumber() {
    const known = config || lastGood;
    const given = known.numbers && known.numbers.length ? known.numbers : [data.phone || data.number];
    const list = given.map((n) => str(n).replace(/\D/g, '')).filter(Boolean);
    if (list.length < 2) return list[0] || '';
    if (known.rotation === 'random') return list[Math.floor(randomPick * list.length)];
    let turn = store.get('turn');
    if (typeof turn !== 'number') store.set('turn', (turn = Math.floor(Math.random() * list.length)));
    return list[turn % list.length];
  }
  // As Python's quote(text, safe=""): space is %20, never +.
  const encode = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  function chatLink() {
    const number = chatNumber();
    const text = (data.message || t.msg).replace(/\{(title|url)\}/g, (_, k) => (k === 'title' ? D.title : location.href));
    return number && 'https://wa.me/' + number + '?text=' + encode(Array.from(text.trim()).slice(0, 1000).join(''));
  }
  function chatClicked() {
    // Next chat, next number (after this click used its link).
    setTimeout(safe(() => {
      const turn = store.get('turn');
      if (typeof turn === 'number') store.set('turn', turn + 1);
      render();
    }));
  }
  const isDesktop = () => W.matchMedia('(hover: hover) and (pointer: fine)').matches;
  const opening = (iso) => {
    try { return new Intl.DateTimeFormat(LANG || undefined, { weekday: 'short', hour: 'numeric', minute: '2-digit' }).format(new Date(iso)); }
    catch (e) { return new Date(iso).toLocaleString(); }
  };

  // ---- Drawing, inside one shadow root ----
  const CHAT_ICON = 'M12 3C6.5 3 2 6.6 2 11c0 2.4 1.3 4.5 3.4 6L4 21l4.6-2.3c1.1.3 2.2.4 3.4.4 5.5 0 10-3.6 10-8s-4.5-8-10-8z';
  const CART_ICON = 'M2 3h3l2.6 11h10.8L21 7H6.2M9 20h.1M18 20h.1';
  const FIELDS = { 'customer.name': 'name', 'customer.phone': 'phone', 'customer.address': 'address', delivery: 'delivery', payment_method: 'payment_method', coupon_code: 'coupon_code' };

  function h(tag, attrs, ...children) {
    const el = D.createElement(tag);
    Object.keys(attrs || {}).forEach((name) => {
      const value = attrs[name];
      if (value == null || value === false) return;
      if (name.startsWith('on')) el.addEventListener(name.slice(2), safe(value));
      else if (name === 'text') el.textContent = value; // data is text, never HTML
      else el.setAttribute(name, value === true ? '' : value);
    });
    children.forEach((child) => child != null && el.append(child));
    return el;
  }
  // Elements, never HTML strings: pages enforcing Trusted Types refuse innerHTML.
  const svg = (tag, attrs) => {
    const el = D.createElementNS('http://www.w3.org/2000/svg', tag);
    Object.keys(attrs).forEach((name) => el.setAttribute(name, attrs[name]));
    return el;
  };
  const icon = (path) => {
    const art = svg('svg', { viewBox: '0 0 24 24', width: 28, height: 28 });
    art.append(svg('path', { d: path }));
    return h('span', { 'aria-hidden': 'true' }, art);
  };
  const button = (attrs, ...children) => h('button', Object.assign({ type: 'button' }, attrs), ...children);
  const link = (href, text, cls) => h('a', { href, text, class: cls, target: '_blank', rel: 'noopener' });
  const errorBox = (name) => h('p', { class: 'error', id: 'co-' + name + '-e', hidden: true });
  const field = (name, label, control) => {
    Object.assign(control, { id: 'co-' + name, name });
    return h('div', { class: 'field' }, h('label', { for: control.id, text: label }), control, errorBox(name));
  };
  const radio = (value) => h('label', { class: 'choice' }, h('input', { type: 'radio', name: 'delivery', value, checked: value === 'delivery' }), t[value]);

  let root, dock, notice, bubble, cartButton, badge, chat, live, layer, shade, drawer, heading, list, empty, form, totals;
  let howBox, addressBox, paymentBox, payment, consentBox, consent, problem, sendButton, result, lastFocus, hushed, formReady, openWhenMounted, notes, onSite;
  try { hushed = !!sessionStorage.getItem('chatout.hush'); } catch (e) {}

  function mount() {
    // Page rules like `body > div {display: none}` can't hide us.
    const host = h('div', { 'data-chatout': '' });
    host.style.cssText = 'all:initial!important;display:block!important';
    root = host.attachShadow({ mode: 'open' });
    bubble = h('div', { class: 'bubble', hidden: true });
    badge = h('span', { class: 'count', 'aria-hidden': 'true' });
    cartButton = button({ class: 'fab cart', hidden: true, 'aria-haspopup': 'dialog', onclick: open }, icon(CART_ICON), badge);
    chat = h('a', { class: 'fab', target: '_blank', rel: 'noopener', 'aria-label': t.chat, hidden: true, onclick: chatClicked }, icon(CHAT_ICON));
    // Single-page shops change title and address.
    ['pointerdown', 'focus'].forEach((type) => chat.addEventListener(type, safe(renderChat)));
    live = h('div', { class: 'visually-hidden', 'aria-live': 'polite' });
    shade = h('div', { class: 'shade', hidden: true, onclick: close });
    heading = h('h2', { id: 'co-title', tabindex: '-1', text: t.cart });
    list = h('ul', { 'aria-labelledby': 'co-title' });
    empty = h('p', { text: t.empty });
    howBox = h('fieldset', { class: 'field', hidden: true, onchange: push }, h('legend', { text: t.how }), radio('delivery'), radio('pickup'), errorBox('delivery'));
    notes = h('div', { class: 'notes', role: 'status' });
    onSite = link(BASE, t.site, 'button other');
    addressBox = field('address', t.address, h('textarea', { rows: 3, autocomplete: 'street-address', maxlength: 500 }));
    paymentBox = field('payment_method', t.pay, (payment = h('select')));
    consent = h('input', { type: 'checkbox', name: 'consent', id: 'co-consent' });
    consentBox = h('div', { class: 'field', hidden: true }, h('label', { class: 'choice', for: 'co-consent' }, consent, h('span')));
    problem = h('div', { role: 'alert' });
    totals = h('dl', { class: 'totals', hidden: true });
    sendButton = h('button', { type: 'submit', class: 'button', text: t.send });
    form = h('form', { novalidate: true, onsubmit: submit },
      field('name', t.name, h('input', { autocomplete: 'name', maxlength: 80 })),
      field('phone', t.phone, h('input', { type: 'tel', autocomplete: 'tel', maxlength: 32 })),
      howBox, addressBox, paymentBox, consentBox,
      // A changed code re-prices the cart; its reason shows beside it if the shop refuses it.
      field('coupon_code', t.code, h('input', { autocomplete: 'off', maxlength: 40, onchange: () => { clearErrors(); pull(); } })),
      totals, problem, sendButton, onSite);
    result = h('div', { hidden: true });
    drawer = h('div', { class: 'drawer', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'co-title', hidden: true, onkeydown: onKey },
      button({ class: 'close', 'aria-label': t.close, text: '×', onclick: close }),
      heading, result, notes, list, empty, form);
    // The shop's preview tells its owner on screen what the console tells a site's developer.
    notice = h('p', { class: 'notice', role: 'status', hidden: true });
    dock = h('div', { class: 'dock', hidden: true }, notice, bubble, cartButton, chat);
    // The top layer (a popover) is above every z-index the page may use; the class is for browsers without it.
    layer = h('div', { class: 'layer', popover: 'manual' }, shade, drawer);
    // Shown once styled. A file, not <style>, for strict CSPs; without it, still a button in the corner.
    const show = () => (dock.hidden = false);
    const unstyled = () => {
      Object.assign(dock.style, { position: 'fixed', right: '16px', bottom: '16px', zIndex: 2147483647 });
      Object.assign(chat.style, { display: 'block', padding: '14px', borderRadius: '50%', background: '#0e7a3f', color: '#fff' });
      show();
    };
    const css = h('link', { rel: 'stylesheet', href: BASE + '/static/widget/chatout.css', onload: show, onerror: unstyled });
    root.append(css, live, dock, layer);
    D.body.append(host);
    render();
    if (openWhenMounted) open();
  }

  function announce(words) {
    if (!live) return;
    live.textContent = '';
    setTimeout(() => (live.textContent = words), 50);
  }

  function render() {
    if (!root) return;
    const count = itemCount();
    cartButton.hidden = MODE === 'chat' || !!refused || !count;
    notice.hidden = !refused || data.preview == null;
    notice.textContent = refused && 'Chatout: chat button only, no cart: ' + refused;
    if (refused) close();
    badge.textContent = count;
    cartButton.setAttribute('aria-label', t.cart + ' (' + count + ')');
    renderChat();
    renderBubble();
    renderForm();
    renderLines();
    renderTotals();
  }

  function renderChat() {
    const href = chatLink();
    chat.hidden = !href;
    if (href) chat.href = href;
  }

  function renderBubble() {
    const words = [data.greeting || (config || lastGood).greeting];
    if (config && config.open_now === false && config.next_opening) words.push(t.reply.replace('{t}', opening(config.next_opening)));
    bubble.textContent = '';
    bubble.hidden = hushed || !words.some(Boolean) || chat.hidden;
    words.filter(Boolean).forEach((w) => bubble.append(h('p', { text: w })));
    const hush = () => {
      hushed = bubble.hidden = true;
      try { sessionStorage.setItem('chatout.hush', '1'); } catch (e) {}
    };
    bubble.append(button({ class: 'close', 'aria-label': t.close, text: '×', onclick: hush }));
  }

  function renderForm() {
    if (config && !formReady) {
      formReady = true;
      howBox.hidden = !config.pickup_enabled;
      (config.payment_methods || []).forEach((m) => payment.append(h('option', { value: m, text: t[m] || m })));
      paymentBox.hidden = !payment.options.length;
      consentBox.querySelector('span').textContent = config.consent_wording || '';
      consent.checked = !!config.consent_ticked;
      consentBox.hidden = !config.consent_wording;
    }
    addressBox.hidden = form.elements.delivery.value === 'pickup';
  }

  function renderLines() {
    const focused = root.activeElement && root.activeElement.id, cart = lines(), skus = cart.map(lineSku).join(' ');
    if (/^co-q\d/.test(focused || '') && skus === list.dataset.skus) {
      // The shopper is typing a quantity: rebuilding would reset that field's text and caret under their fingers.
      cart.forEach((line, i) => { const q = root.getElementById('co-q' + i); if (q && q.id !== focused) q.value = line.qty; });
    } else renderLineList(cart, focused, skus);
    result.hidden = view !== 'done';
    empty.hidden = view === 'done' || cart.length > 0;
    form.hidden = list.hidden = !cart.length;
  }
  function renderLineList(cart, focused, skus) {
    list.textContent = '';
    list.dataset.skus = skus;
    cart.forEach((line, i) => {
      const known = resolve(line), name = known ? known.name : line.sku;
      const quantity = h('input', {
        type: 'number', id: 'co-q' + i, min: 1, max: MAX_QTY, value: line.qty, 'aria-label': t.qty + ': ' + name,
        onchange: (e) => { const all = lines(); all[i].qty = clampQty(e.target.value); saveCart(all); },
      });
      const remove = button({ class: 'remove', id: 'co-r' + i, 'aria-label': t.remove + ': ' + name, text: '×',
        onclick: () => saveCart(lines().filter((_, j) => j !== i)) });
      const label = known ? known.label : optionsLabel(line.options);
      const about = h('span', { text: name }, label ? h('small', { text: label }) : null, known ? h('small', { text: known.display }) : null);
      list.append(h('li', {}, about, quantity, remove, errorBox('item' + i)));
    });
    if (/^co-[qr]\d/.test(focused || '')) (root.getElementById(focused) || heading).focus();
  }

  // ---- Totals and notes: the shop's words for its own prices ----
  const totalsOf = (priced) => [[t.subtotal, priced.subtotal_display]]
    .concat(priced.discount_minor ? [[priced.coupon_code, '−' + priced.discount_display]] : [])
    .concat([[t.delivery, priced.delivery_fee_display], [t.total, priced.total_display]]);
  function fillTotals(box, priced) {
    box.textContent = '';
    totalsOf(priced).forEach(([name, value]) => box.append(h('div', {}, h('dt', { text: name }), h('dd', { text: value }))));
  }
  function renderTotals() {
    totals.hidden = !cart || !!syncing;
    if (!totals.hidden) fillTotals(totals, cart);
    notes.textContent = '';
    (cart ? cart.notes : []).forEach((n) => notes.append(h('p', { text: n.message })));
    if (cart && cart.coupon_error) showErrors({ fields: { coupon_code: cart.coupon_error } });
    onSite.hidden = !cart || !lines().length;
    if (cart) onSite.href = cart.open_url;
  }

  function sending(on) {
    if (!root) return;
    sendButton.disabled = on;
    sendButton.textContent = on ? '…' : t.send;
    if (on) clearErrors();
  }

  function clearErrors() {
    problem.textContent = '';
    root.querySelectorAll('.error').forEach((box) => { box.hidden = true; });
    root.querySelectorAll('[aria-invalid]').forEach((input) => input.removeAttribute('aria-invalid'));
  }

  function showErrors(failure) {
    if (!root) return;
    clearErrors();
    let general = failure.retry ? t.fail : failure.code === 'validation_failed' ? t.fix : failure.message;
    Object.keys(failure.fields).forEach((name) => {
      const item = name.match(/^items\[(\d+)\]/);
      const index = item ? +item[1] : lines().findIndex((l) => lineSku(l) === name); // out of stock: by SKU
      const box = FIELDS[name] || (index >= 0 ? 'item' + index : '');
      const where = box && root.getElementById('co-' + box + '-e');
      if (!where) return (general += ' ' + failure.fields[name]);
      where.textContent = failure.fields[name];
      where.hidden = false;
      const input = root.getElementById('co-' + box);
      if (input) {
        input.setAttribute('aria-invalid', 'true');
        input.setAttribute('aria-describedby', where.id);
      }
    });
    if (general) problem.append(h('p', { class: 'error', text: general }));
    if (failure.retry) problem.append(button({ class: 'button other', text: t.retry, onclick: submit }));
    const invalid = drawer.hidden ? null : root.querySelector('[aria-invalid=true]');
    if (invalid) invalid.focus();
  }

  function showOrder(order) {
    if (!root) return;
    const wa = order.whatsapp || {}, desktop = isDesktop();
    // Computers: api.whatsapp.com opens the desktop app more reliably.
    const app = link(desktop ? wa.api_url || wa.app_url : wa.app_url, t.app, 'button');
    const says = h('p', { tabindex: '-1', text: t.done.replace('{r}', order.reference) });
    app.addEventListener('click', () => store.set('whatsapp', 'app'));
    const charged = h('dl', { class: 'totals' });
    fillTotals(charged, order);
    result.textContent = '';
    result.append(says, charged, app);
    if (desktop) {
      const web = link(wa.web_url, t.web, 'button other');
      web.addEventListener('click', () => store.set('whatsapp', 'web'));
      if (store.get('whatsapp') === 'web') {
        [web.className, app.className] = [app.className, web.className]; // last choice first
        result.insertBefore(web, app);
      } else result.append(web);
      // Its handoff page has the QR code: no QR library here.
      result.append(h('p', {}, link(order.status_url + '/whatsapp', t.qr)));
    }
    result.append(h('p', {}, link(order.status_url, t.status)));
    open();
    says.focus();
  }

  // ---- Modal drawer: focus goes in, stays in, comes back ----
  function open() {
    if (!root) return (openWhenMounted = true);
    if (refused) return log('no cart here: ' + refused);
    if (drawer.hidden) {
      layer.classList.add('open');
      if (layer.showPopover && !layer.matches(':popover-open')) layer.showPopover();
      const active = D.activeElement;
      lastFocus = active && active.shadowRoot === root ? root.activeElement : active;
      drawer.hidden = shade.hidden = false;
      cartButton.setAttribute('aria-expanded', 'true');
      heading.focus();
    }
    push();
    render();
  }
  function close() {
    if (!root || drawer.hidden) return;
    drawer.hidden = shade.hidden = true;
    layer.classList.remove('open');
    if (layer.hidePopover && layer.matches(':popover-open')) layer.hidePopover();
    cartButton.setAttribute('aria-expanded', 'false');
    (lastFocus && lastFocus.isConnected && lastFocus !== D.body ? lastFocus : cartButton.hidden ? chat : cartButton).focus();
  }
  function onKey(e) {
    if (e.key === 'Escape') {
      e.stopPropagation();
      return close();
    }
    const stops = [...drawer.querySelectorAll('a,button:not([disabled]),input,select,textarea')].filter((el) => el.getClientRects().length);
    const first = stops[0], last = stops[stops.length - 1], current = root.activeElement;
    if (e.key !== 'Tab' || !first) return;
    if (e.shiftKey && (current === first || current === heading)) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && current === last) {
      e.preventDefault();
      first.focus();
    }
  }
  function submit(e) {
    if (e) e.preventDefault();
    const details = {};
    new FormData(form).forEach((value, name) => (details[name] = value));
    checkout(details, true).catch(log);
  }

  // Capture: themes that stop clicks can't hide them; works for buttons added later.
  function onPageClick(e) {
    const el = e.target.closest && e.target.closest('[data-chatout-add]');
    if (!el) return;
    e.preventDefault(); // no theme going to "/undefined"
    if (refused) return chatLink() && W.open(chatLink(), '_blank', 'noopener');
    addItem({ sku: el.getAttribute('data-chatout-add'), qty: el.getAttribute('data-chatout-qty') });
  }

  W.Chatout = Object.freeze({
    version: '1', addItem: safe(addItem), removeItem: safe(removeItem), cart: safe(cartCopy), clear: safe(clear),
    open: safe(open), close: safe(close), checkout: (details) => checkout(details, false),
  });
  try {
    if (MODE === 'cart') D.addEventListener('click', safe(onPageClick), true);
    W.addEventListener('storage', safe((e) => e.key === 'chatout.cart' && changed()));
    const configured = loadConfig();
    const start = safe(() => {
      if (!root) mount();
      configured.then(safe(() => emit('ready', { mode: MODE, open_now: config ? config.open_now : null, items: cartCopy() }))).then(pull);
    });
    D.readyState === 'loading' ? D.addEventListener('DOMContentLoaded', start) : start();
  } catch (e) { log(e); }
})();
