"""The portal's Hungarian texts, by English message id (see texts.py)."""

from __future__ import annotations

HU: dict[str, str] = {
    # layout
    "Mintaváros e-services": "Mintaváros e-ügyintézés",
    "e-services": "e-ügyintézés",
    "Skip to content": "Ugrás a tartalomra",
    "Developer mode": "Fejlesztői mód",
    "Outbox": "Kimenő levelek",
    "Demo e-ID cards": "Demó e-személyik",
    "Language": "Nyelv",
    "Logged in as": "Bejelentkezve mint",
    "Security": "Biztonság",
    "Log in": "Belépés",
    "Log out": "Kilépés",
    "Services": "Szolgáltatások",
    "Home": "Főoldal",
    "Forum": "Fórum",
    "Tax return": "Adóbevallás",
    "Mandates": "Meghatalmazások",
    "My data": "Saját adataim",
    "A demo of the flask_kapu Flask extension. Every person, card and case here is invented.": (
        "A flask_kapu Flask-bővítmény bemutatója. Minden személy, kártya és ügy kitalált."
    ),
    "Help line: +36 1 555 0100 (demo), weekdays 8:00–16:00": (
        "Ügyfélvonal: +36 1 555 0100 (demó), hétköznap 8:00–16:00"
    ),
    # home
    "Your town's business, from home — safely.": "Intézze ügyeit otthonról, biztonságosan.",
    "Log in with Ügyfélkapu. The pages that matter most ask you for Ügyfélkapu+: a code by "
    "e-mail, an authenticator app or a passkey.": (
        "Ügyfélkapuval lép be. A legfontosabb oldalak Ügyfélkapu+ megerősítést kérnek: "
        "e-mailben kapott kódot, hitelesítő alkalmazást vagy passkey-t."
    ),
    "Security settings": "Biztonsági beállítások",
    "Register": "Regisztráció",
    "Try it": "Próbálja ki",
    "Every mail, with its code, lands in the %(outbox)s.": (
        "Minden levél a kódjával együtt a %(outbox)s közé érkezik."
    ),
    "developer outbox": "fejlesztői kimenő levelek",
    "Mails go out through the configured mail server.": (
        "A levelek a beállított levelezőszerveren át mennek ki."
    ),
    "Mails are kept in memory: start the app with --debug to read them in the outbox.": (
        "A levelek csak a memóriában vannak: indítsa az alkalmazást --debug kapcsolóval, "
        "és olvassa őket a kimenő levelek között."
    ),
    "Registered at the office": "Regisztráció az okmányirodában",
    "%(name)s's activation code is in the mail: %(activate)s, choose a password, log in.": (
        "%(name)s aktiváló kódja a levelek között vár: %(activate)s, jelszóválasztás, belépés."
    ),
    "activate": "aktiválás",
    "Register online": "Regisztráció az interneten",
    "%(register)s, give your e-mail and data, activate with the mailed code.": (
        "%(register)s, adja meg e-mail-címét és adatait, majd aktiváljon a levélben kapott kóddal."
    ),
    "Choose a username": "Válasszon felhasználónevet",
    "Register with an e-ID card": "Regisztráció e-személyivel",
    "Take a card from the %(cards)s: your data come from the registry.": (
        "Válasszon kártyát a %(cards)s közül: adatai a nyilvántartásból jönnek."
    ),
    "demo e-ID cards": "demó e-személyik",
    "%(register)s with card 123456AB and code K7P2M9Q4T1X.": (
        "%(register)s a 123456AB kártyával és a K7P2M9Q4T1X kóddal."
    ),
    "Ügyfélkapu+ by e-mail code": "Ügyfélkapu+ e-mailes kóddal",
    "Open the %(page)s: set up e-mail codes, then confirm with the 6-digit code.": (
        "Nyissa meg az %(page)st: állítsa be az e-mailes kódot, majd erősítsen meg a "
        "6 jegyű kóddal."
    ),
    "tax return": "adóbevallás",
    "Authenticator app": "Hitelesítő alkalmazás",
    "Scan the %(qr)s with your phone; from then on every login asks for its code.": (
        "Olvassa be a %(qr)sot telefonjával; ezután minden belépés kéri a kódját."
    ),
    "QR code": "QR-kód",
    "Passkey": "Passkey",
    "The %(page)s page opens only with a passkey: add one when asked, and you are in.": (
        "A %(page)s oldal csak passkey-jel nyílik meg: adjon hozzá egyet, amikor kéri, és "
        "már bent is van."
    ),
    "Forgot password": "Elfelejtett jelszó",
    "%(forgot)s by mail to set a new one. Five wrong passwords lock the account for a while.": (
        "%(forgot)s e-mailben, és állítson be új jelszót. Öt hibás jelszó után a fiók egy "
        "időre zárolódik."
    ),
    "Ask for a code": "Kérjen kódot",
    "For developers: how this portal uses flask_kapu": (
        "Fejlesztőknek: így használja a portál a flask_kaput"
    ),
    "An ordinary Flask app: an app factory, its own templates and tables, one stylesheet. "
    "flask_kapu comes in with these lines:": (
        "Közönséges Flask-alkalmazás: alkalmazásgyár, saját sablonok és táblák, egy "
        "stíluslap. A flask_kapu ennyi sorral kerül bele:"
    ),
    "Page": "Oldal",
    "Three ways to prove it is you": "Háromféleképpen igazolhatja magát",
    "Username and password: enough for most pages.": (
        "Felhasználónév és jelszó: a legtöbb oldalhoz elég."
    ),
    "Plus a code by e-mail or from an authenticator app, for your taxes.": (
        "Mellé e-mailben kapott vagy hitelesítő alkalmazás adta kód – az adóügyekhez."
    ),
    "Your phone or security key, like the DÁP app, for mandates.": (
        "Telefonja vagy biztonsági kulcsa, mint a DÁP alkalmazás – a meghatalmazásokhoz."
    ),
    "Protected by": "Védelme",
    "Tax return receipt": "Adóbevallás nyugtája",
    # services
    "Residents' forum": "Lakossági fórum",
    "Ask, suggest, discuss the town's affairs.": (
        "Kérdezzen, javasoljon, szóljon hozzá a város ügyeihez."
    ),
    "Posting needs a login": "Íráshoz belépés kell",
    "Check the draft of your personal income tax return and submit it.": (
        "Nézze át személyijövedelemadó-bevallása tervezetét, és küldje be."
    ),
    "Ügyfélkapu+": "Ügyfélkapu+",
    "Authorise someone to handle your affairs.": (
        "Hatalmazzon meg valakit, hogy ön helyett intézze ügyeit."
    ),
    "Passkey only": "Csak passkey-jel",
    "What the town holds about you, in one place.": ("Amit a város nyilvántart önről, egy helyen."),
    "Login required": "Belépés kell",
    # forum
    "Community": "Közösség",
    "Ask, suggest and discuss the town's affairs. Anyone can read; to write, log in with "
    "Ügyfélkapu.": (
        "Kérdezzen, javasoljon, szóljon hozzá a város ügyeihez. Olvasni bárki tud, írni "
        "Ügyfélkapus belépéssel lehet."
    ),
    "Posts": "Bejegyzések",
    "Mintaváros Town Hall": "Mintaváros Polgármesteri Hivatala",
    "No posts yet. Be the first to write.": "Még nincs bejegyzés. Írjon elsőként!",
    "New post": "Új bejegyzés",
    "Title": "Cím",
    "Message": "Üzenet",
    "Publish": "Közzététel",
    "You post as %(username)s.": "%(username)s néven ír.",
    "Join the discussion": "Szóljon hozzá",
    "Posting needs a login: your username appears with your post, your name does not.": (
        "Íráshoz be kell lépnie: a bejegyzés mellett felhasználóneve látszik, a neve nem."
    ),
    "Log in to post": "Belépés és írás",
    "Your post is published.": "Bejegyzését közzétettük.",
    "Write a title.": "Adjon címet a bejegyzésnek.",
    "Use 3 to 120 characters.": "3–120 karaktert írjon.",
    "Write your message.": "Írja meg az üzenetét.",
    "Use at most 2000 characters.": "Legfeljebb 2000 karaktert írjon.",
    # forms in general
    "Some fields need your attention; see below.": "Néhány mezőt javítani kell; lásd lent.",
    "The form has expired. Reload the page and try again.": (
        "Az űrlap lejárt. Töltse újra az oldalt, és próbálja újra."
    ),
    "Not a valid date value.": "Érvénytelen dátum.",
    "Not a valid choice.": "Válasszon a felsoroltak közül.",
    # tax return
    "Personal income tax return": "Személyijövedelemadó-bevallás",
    "Your draft for %(year)s is ready. Check it, correct it if needed, and submit it.": (
        "Elkészült %(year)s. évi bevallási tervezete. Nézze át, ha kell, javítsa, és küldje be."
    ),
    "This page is protected by Ügyfélkapu+: you have confirmed your login with a second factor.": (
        "Ezt az oldalt az Ügyfélkapu+ védi: belépését második azonosítással is megerősítette."
    ),
    "Draft for %(year)s": "%(year)s. évi tervezet",
    "Taxpayer: %(name)s": "Adózó: %(name)s",
    "Income from employment (HUF)": "Bérjövedelem (Ft)",
    "From your employers' reports.": "A munkáltatói bejelentések alapján.",
    "Tax advance withheld (HUF)": "Levont adóelőleg (Ft)",
    "What your employers have already deducted.": "Amit a munkáltatók már levontak.",
    "1% donation": "1%-os felajánlás",
    "1% of your tax to a civil organisation, at no cost to you.": (
        "Adója 1%-a egy civil szervezetnek – önnek ez semmibe sem kerül."
    ),
    "No donation this year": "Idén nem rendelkezem",
    "Mintaváros Animal Shelter Foundation": "Mintavárosi Állatmenhely Alapítvány",
    "Mintaváros Ambulance Foundation": "Mintavárosi Mentőalapítvány",
    "Friends of Lake Példa Association": "Példa-tó Barátainak Egyesülete",
    "I declare that the data above are true and complete.": (
        "Kijelentem, hogy a fenti adatok a valóságnak megfelelnek és teljesek."
    ),
    "Tick this box to submit the return.": "A beküldéshez jelölje be ezt a négyzetet.",
    "Enter an amount in forints.": "Adjon meg egy összeget forintban.",
    "Enter an amount in forints, digits only.": "Az összeget forintban, számjegyekkel adja meg.",
    "Submit the tax return": "Bevallás beküldése",
    "According to the draft": "A tervezet szerint",
    "Tax (15%)": "Adó (15%)",
    "Already withheld": "Már levonták",
    "To pay": "Befizetendő",
    "Refund": "Visszajár",
    "Submitted returns": "Beküldött bevallások",
    "Receipt": "Nyugta",
    "Your tax return has been received": "Bevallását befogadtuk",
    "Filing number": "Érkeztetési szám",
    "Taxpayer": "Adózó",
    "Submitted": "Beküldve",
    "Income": "Jövedelem",
    "Please pay the difference by 20 May.": "A különbözetet május 20-ig fizesse be.",
    "The refund arrives on your bank account within 30 days.": (
        "A visszajáró összeg 30 napon belül érkezik bankszámlájára."
    ),
    "Back to the tax return": "Vissza az adóbevalláshoz",
    # mandates
    "Register of mandates": "Rendelkezési nyilvántartás",
    "Authorise someone to act for you. A statement this weighty needs a passkey: the "
    "stand-in for the government's DÁP phone app.": (
        "Meghatalmazhat valakit, hogy ön helyett intézze ügyeit. Ilyen súlyú nyilatkozathoz "
        "passkey kell – ez itt a DÁP mobilalkalmazás megfelelője."
    ),
    "You confirmed this visit with a passkey.": "Ezt a látogatást passkey-jel erősítette meg.",
    "Your mandates": "Meghatalmazásai",
    "valid until %(day)s": "érvényes: %(day)s",
    "Revoke": "Visszavonás",
    "Revoke the mandate of %(agent)s": "%(agent)s meghatalmazásának visszavonása",
    "You have not authorised anyone yet.": "Még senkit sem hatalmazott meg.",
    "New mandate": "Új meghatalmazás",
    "Name of the person you authorise": "A meghatalmazott neve",
    "As on their ID.": "Ahogy a személyi igazolványán áll.",
    "Matters": "Ügykör",
    "Tax matters": "Adóügyek",
    "Health care": "Egészségügy",
    "Vehicles and driving licence": "Gépjármű és jogosítvány",
    "All matters": "Minden ügy",
    "Valid until": "Érvényesség vége",
    "Record the mandate": "Meghatalmazás rögzítése",
    "Enter a name.": "Adja meg a nevet.",
    "Use 3 to 100 characters.": "3–100 karaktert írjon.",
    "Enter a date.": "Adjon meg egy dátumot.",
    "Choose a day after today.": "Mai napnál későbbi dátumot válasszon.",
    "A mandate can last at most five years.": "Egy meghatalmazás legfeljebb öt évig érvényes.",
    "The mandate is recorded.": "A meghatalmazást rögzítettük.",
    "The mandate is revoked.": "A meghatalmazást visszavontuk.",
    # my data
    "Your account": "Fiókja",
    "Ügyfélkapu account": "Ügyfélkapu-fiók",
    "Username": "Felhasználónév",
    "E-mail address": "E-mail-cím",
    "Registered": "Regisztráció",
    "at a government office": "okmányirodában",
    "online": "az interneten",
    "online, with an e-ID card": "az interneten, e-személyivel",
    "Security settings: second factors, password, recent activity": (
        "Biztonsági beállítások: második azonosítás, jelszó, legutóbbi események"
    ),
    "Your username and e-mail address can only be changed in person at a government office.": (
        "Felhasználónevét és e-mail-címét csak személyesen, kormányablakban módosíthatja."
    ),
    "Personal data": "Személyes adatok",
    "From the personal data and address registry, checked with your e-ID card. It cannot "
    "be changed here.": (
        "A személyiadat- és lakcímnyilvántartásból, e-személyijével ellenőrizve. Itt nem "
        "módosítható."
    ),
    "As you gave them when you registered.": "Ahogy regisztrációkor megadta.",
    "As recorded at the government office.": "Ahogy az okmányirodában rögzítették.",
    "No personal data is recorded with your account.": "Fiókjához nincs személyes adat rögzítve.",
    "Family name": "Családi név",
    "Given name": "Utónév",
    "Date of birth": "Születési dátum",
    "Place of birth": "Születési hely",
    "Mother's name": "Anyja neve",
    "Address": "Lakcím",
    "Your cases": "Ügyei",
    "%(count)s posts": "%(count)s bejegyzés",
    "1 post": "1 bejegyzés",
    "none submitted yet": "még nem küldött be",
    # demo cards
    "Invented people on invented cards, from flask_kapu's DemoRegistry. A real portal asks "
    "the personal data and address registry instead.": (
        "Kitalált személyek kitalált kártyákon, a flask_kapu DemoRegistry-jéből. Egy valódi "
        "portál a személyiadat- és lakcímnyilvántartást kérdezi le."
    ),
    "Personal ID card": "Személyazonosító igazolvány",
    "Born": "Született",
    "Document ID": "Okmányazonosító",
    "Registration code": "Regisztrációs kód",
    # errors
    "Page not found": "Nincs ilyen oldal",
    "Service temporarily unavailable": "A szolgáltatás átmenetileg nem érhető el",
    "We cannot reach our records just now. Please try again in a few seconds.": (
        "Adatainkat most nem érjük el. Kérjük, néhány másodperc múlva próbálja újra."
    ),
    "There is no page at this address.": "Ezen a címen nincs oldal.",
    "Something went wrong": "Valami nem sikerült",
    "To the home page": "A főoldalra",
}
