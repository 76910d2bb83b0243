"""Text that is never the story, in any of the languages we summarize: date and time
lines, bare URLs and e-mail addresses, legal and reprint notices, newsletter and app
pitches, "Read also:" teasers and photo credits.

`clean.clean_text` drops such lines before splitting; `news` refuses such sentences as
candidates outright (even when an article has nothing else). Date lines are recognised by
vocabulary rather than by one pattern per site: a line is a timestamp when every word in
it is a number, a month or weekday name, a time word or a "published/updated" label, so
"segunda-feira, 22 de janeiro de 2018 às 0:13" and "Aktualisiert am 3. März, 14:05 Uhr"
go while "The vote is on 22 January." stays.
"""

from __future__ import annotations

import re
import unicodedata

_FOLD = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ß": "ss", "ı": "i", "æ": "ae", "œ": "oe"})

# month and weekday names (full, genitive and abbreviated) of the languages sumy supports, plus Dutch
# and Russian; written with their accents, compared accent-free
_CALENDAR = """
january february march april may june july august september october november december jan feb mar apr
jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday mon tue tues
wed thu thur thurs fri sat sun
januar jänner februar märz mai juni juli oktober dezember montag dienstag mittwoch donnerstag freitag
samstag sonnabend sonntag mär okt dez mo di mi do fr sa so
janvier février mars avril juin juillet août septembre octobre novembre décembre lundi mardi mercredi
jeudi vendredi samedi dimanche janv févr avr juil déc
enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre diciembre
lunes martes miércoles jueves viernes sábado domingo ene dic
gennaio febbraio aprile maggio giugno luglio settembre ottobre dicembre lunedì martedì mercoledì
giovedì venerdì sabato domenica gen mag giu lug ago set ott
janeiro fevereiro março maio junho julho setembro outubro novembro dezembro segunda terça quarta
quinta sexta feira fev out
januari februari augusti maj måndag tisdag onsdag torsdag fredag lördag söndag
maart mei augustus maandag dinsdag woensdag donderdag vrijdag zaterdag zondag
leden únor březen duben květen červen červenec srpen září říjen listopad prosinec ledna února března
dubna května června července srpna října listopadu prosince pondělí úterý středa čtvrtek pátek
sobota neděle
január február marec apríl máj jún júl október január januára februára marca apríla mája júna júla
augusta septembra októbra novembra decembra pondelok utorok streda štvrtok piatok nedeľa
styczeń luty marzec kwiecień czerwiec lipiec sierpień wrzesień październik grudzień stycznia lutego
kwietnia maja czerwca lipca sierpnia września października listopada grudnia poniedziałek wtorek
środa czwartek piątek niedziela
січень лютий березень квітень травень червень липень серпень вересень жовтень листопад грудень
січня лютого березня квітня травня червня липня серпня вересня жовтня листопада грудня понеділок
вівторок середа четвер п'ятниця субота неділя
январь февраль март апрель май июнь июль август сентябрь октябрь ноябрь декабрь января февраля марта
апреля мая июня июля августа сентября октября ноября декабря понедельник вторник среда четверг
пятница суббота воскресенье
ιανουάριος φεβρουάριος μάρτιος απρίλιος μάιος ιούνιος ιούλιος αύγουστος σεπτέμβριος οκτώβριος
νοέμβριος δεκέμβριος ιανουαρίου φεβρουαρίου μαρτίου απριλίου μαΐου ιουνίου ιουλίου αυγούστου
σεπτεμβρίου οκτωβρίου νοεμβρίου δεκεμβρίου δευτέρα τρίτη τετάρτη πέμπτη παρασκευή σάββατο κυριακή
يناير فبراير مارس أبريل إبريل مايو يونيو يوليو أغسطس سبتمبر أكتوبر نوفمبر ديسمبر كانون شباط آذار
نيسان أيار حزيران تموز آب أيلول تشرين الاثنين الثلاثاء الأربعاء الخميس الجمعة السبت الأحد
ינואר פברואר מרץ אפריל מאי יוני יולי אוגוסט ספטמבר אוקטובר נובמבר דצמבר ראשון שני שלישי רביעי חמישי
שישי שבת
"""
# words that may sit in a date line: connectors, clock and zone words, relative times, labels
_DATE_WORDS = """
the of at on in and by am pm a m p h t z gmt utc cet cest est edt cst cdt pst pdt bst ist eet eest msk
et pt ct mt hrs hr ago hour hours minute minutes min mins sec secs second seconds day days week weeks
month months year years yesterday today now just published updated posted last modified read reading
time first
de do da del di du le la el à a às as em um am den der das dem vom uhr stand veröffentlicht
aktualisiert zuletzt vor stunde stunden minuten tag tagen gestern heute lesezeit
publié mis jour modifié il y heure heures jour jours hier aujourd'hui lecture
publicado actualizado actualizada hace hora horas minuto minutos día días ayer hoy lectura
atualizado atualizada atualização há ontem hoje dia dias leitura
pubblicato aggiornato alle ore fa ieri oggi minuti giorni lettura
gepubliceerd bijgewerkt laatst geleden uur dagen gisteren vandaag om leestijd
publicerad uppdaterad sedan timmar minuter igår idag kl klockan
opublikowano zaktualizowano aktualizacja temu godz godzin godziny minut dni wczoraj dzisiaj
publikováno aktualizováno publikované aktualizované před hodin hodinami minutami včera dnes
опубліковано оновлено тому годин години хвилин вчора сьогодні року р о
опубликовано обновлено назад часа часов минут вчера сегодня года г в
δημοσίευση ενημέρωση ενημερώθηκε στις πριν ώρες λεπτά χθες σήμερα
نشر تحديث في منذ ساعة ساعات دقيقة أمس اليوم
פורסם עודכן לפני שעות דקות אתמול היום ב
"""
_TOKEN = re.compile(r"\d+(?:st|nd|rd|th|er|e|eme|o|a|º|ª)?|[^\W\d_]+(?:'[^\W\d_]+)?")


def fold(text: str) -> str:
    """Lower case without accents, so 'Março', 'marco' and 'MARÇO' compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_FOLD))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("’", "'")


_NAMES = frozenset(fold(w) for w in _CALENDAR.split())
_ALLOWED = _NAMES | frozenset(fold(w) for w in _DATE_WORDS.split())


def _known(token: str) -> bool | None:
    """True for a calendar name or a number, False for another allowed word, None otherwise."""
    if token[0].isdigit():
        return True
    if not token.isascii():
        token = fold(token)
    if token in _NAMES:
        return True
    return False if token in _ALLOWED else None


def is_timestamp(text: str) -> bool:
    """Only a date, a time or "3 hours ago", with at most a label ("Updated", "Publié le").
    Tokens are checked lazily: most sentences fail on their first word."""
    if len(text) > 160:
        return False
    anchored = False
    for count, match in enumerate(_TOKEN.finditer(text.lower().replace("’", "'"))):
        known = _known(match.group())
        if known is None or count >= 24:
            return False
        anchored = anchored or known
    return anchored


_META_PARTS = re.compile(r"\s+[-–—|·•/]\s+")


def is_meta_line(text: str) -> bool:
    """"Jane Doe - Updated: 11:32, 2 February 2024": a short name or label joined to a date."""
    parts = _META_PARTS.split(text.strip())
    # the date part must be more than a bare number ("3. Michael Ballack - 16." is a list line)
    if len(parts) < 2 or len(parts) > 4 or not any(is_timestamp(p) and len(_TOKEN.findall(p)) > 1 for p in parts):
        return False
    return all(is_timestamp(p) or (len(p.split()) <= 5 and not p.rstrip().endswith((".", "!", "?")))
               for p in parts)


_URL_ONLY = re.compile(r"^[\s(<\[]*(?:[\w ]{0,30}:\s*)?(?:https?://|www\.)\S+?[\s)>\].]*$"
                       r"|^[\s(<]*(?:[\w ]{0,30}:\s*)?(?:mailto:)?[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+[\s)>.]*$",
                       re.IGNORECASE)


def is_url_only(text: str) -> bool:
    """A sentence that is a web or e-mail address (optionally labelled), nothing more."""
    return bool(_URL_ONLY.match(text))


_I = re.IGNORECASE
_LEGAL = re.compile(
    r"for your personal,? non-?commercial use|presentation-ready copies|order (?:reprints|copies)"
    r"|distribution and use of this material|(?:material|article|content|story|copy) (?:may|must) not be "
    r"(?:re)?(?:published|reproduced|broadcast|rewritten|redistributed|copied)|all rights reserved"
    r"|reproduction (?:\w+ ){0,4}(?:prohibited|forbidden)"
    r"|reprints? (?:and|&) permissions|(?:republished|reproduced|reprinted) (?:here )?(?:from|with permission)"
    r"|under a creative commons licen[cs]e|terms (?:of|and) (?:use|service|conditions)\b.{0,40}privacy"
    r"|^\s*(?:©|\(c\))\s*\S|^\s*copyright\s*(?:©|\(c\)|\d{4})"
    r"|alle rechte vorbehalten|tous droits réservés|todos los derechos reservados|tutti i diritti riservati"
    r"|todos os direitos reservados|alle rechten voorbehouden|alla rättigheter förbehållna"
    r"|wszelkie prawa zastrzeżone|všechna práva vyhrazena|všetky práva vyhradené|усі права захищені"
    r"|все права защищены|με επιφύλαξη παντός δικαιώματος|جميع الحقوق محفوظة|כל הזכויות שמורות"
    r"|nachdruck (?:\w+ ){0,3}(?:verboten|untersagt)|reproduction interdite|prohibida (?:su )?reproducción"
    r"|(?:nachdruck|reproduction|reproducción|reprodução|riproduzione|reproductie|przedruk|reprint)\w*\b.{0,60}"
    r"\b(?:genehmigung|erlaubnis|permission|autorisation|autorización|autorizzazione|autorização|toestemming|zgod\w)"
    r"|riproduzione riservata",
    _I,
)


# a notice always contains one of these; checking them first keeps the regex off ordinary sentences
_LEGAL_HINTS = ("commercial", "permission", "genehmigung", "erlaubnis", "autoriz", "toestemming", "przedruk",
                "presentation", "reprint", "copies", "distribution", "not be", "rights", "reproduc", "republish",
                "creative commons", "terms", "©", "(c)", "copyright", "vorbehalten", "réservés", "reservados",
                "riservat", "voorbehouden", "förbehållna", "zastrzeżone", "vyhrazena", "vyhradené", "захищені",
                "защищены", "δικαιώματος", "محفوظة", "שמורות", "nachdruck", "interdite", "prohibida")


def is_legal_notice(text: str) -> bool:
    """Copyright, reprint and licensing notices."""
    lower = text.lower()
    return any(hint in lower for hint in _LEGAL_HINTS) and bool(_LEGAL.search(text))


# newsletter, membership and app pitches; "Read also:" teasers; photo credits ending a caption
_PITCH = re.compile(
    r"^(?:start your (?:day|morning|week)|get (?:the|our) (?:latest|best|top)|sign up (?:for|to)"
    r"|don'?t miss|want (?:more|the latest)|enter your e-?mail|already (?:a subscriber|have an account)"
    r"|support (?:our|independent|quality) journalism|become a (?:member|subscriber|supporter)"
    r"|download (?:our|the) (?:\w+ )?app|(?:subscribe|register) (?:now|today|for)|follow us\b"
    r"|abonnieren sie|melden sie sich|jetzt (?:abonnieren|anmelden)|inscrivez-vous|abonnez-vous"
    r"|suscr[ií]b\w*|reg[ií]strate|iscriviti|abbonati|assine|inscreva-se|cadastre-se|meld je aan"
    r"|schrijf je in|zapisz się|zaprenumeruj|přihlaste se|prihláste sa|prenumerera|anmäl dig"
    r"|підпишіться|подпишитесь|εγγραφείτε|اشترك|הירשמו)\b.*",
    _I,
)
_TEASER_WORDS = (
    r"read more|read also|also read|see also|related(?: (?:stories|articles|content|coverage|news))?|more on this"
    r"|more from [\w ]{1,30}|most (?:read|popular|viewed)|trending(?: now)?|you (?:may|might) also like"
    r"|recommended(?: for you)?|further reading|lesen sie (?:auch|mehr)"
    r"|mehr zum thema|auch interessant|das könnte sie (?:auch )?interessieren|weiterlesen|(?:à )?lire aussi"
    r"|voir aussi|sur le même sujet|lee también|leer más|te puede interesar|noticias relacionadas"
    r"|leia (?:também|mais)|veja também|saiba mais|leggi anche|potrebbe interessarti|lees (?:ook|meer)"
    r"|czytaj (?:też|także|więcej)|przeczytaj (?:też|także)|čtěte (?:také|též)|čítajte (?:aj|tiež)"
    r"|läs (?:också|mer)|читайте (?:також|также)|διαβάστε (?:επίσης|ακόμα)|اقرأ أيضا|קראו עוד|קראו גם"
)
_TEASER = re.compile(rf"^\s*(?:{_TEASER_WORDS})\s*(?:[:|»>›\-–—]\s*.*|[.!…]?)$", _I)
_CREDIT = re.compile(
    r"(?:\b(?:photo(?:graph)?s?|fotos?|bild|credit|crédit(?: photo)?|imagen|image|picture|zdjęcie|фото)\s*:\s*"
    r"[^.:!?]{1,80}$|[/(]\s*(?:getty images|afp|reuters|ap photo|epa|dpa|shutterstock|alamy|anadolu)[^.!?]{0,30}"
    r"\)?\s*$)",
    _I,
)


# a short imperative addressed to the reader ("Share it with a friend.", "Síguenos en WhatsApp")
_CTA_START = re.compile(
    r"^(?:please\s+)?(?:share|follow|like|subscribe|sign (?:up|in)|log ?in|register|download|listen|watch|read|get"
    r"|join|click|tap|support|donate|comment|e-?mail us|contact us|send us|tell us|teilen|folgen|folgt|abonnieren"
    r"|registrieren|anmelden|herunterladen|hören|jetzt|unterstützen|kommentieren|partage[zr]?|suivez|abonnez"
    r"|inscrivez|téléchargez|écoutez|lisez|soutenez|commentez|compart[ea]|síguenos|sigue(?:nos)?|descarga"
    r"|escucha|apoya|comenta|únete|partilh[ae]|compartilh[ae]|assine|inscreva|registe|descarregue|baixe|ouça"
    r"|apoie|comente|condividi|seguici|iscriviti|registrati|scarica|ascolta|leggi|sostieni|commenta)\b", _I)
_READER = re.compile(
    r"\b(?:you|your|our|us|this (?:article|story|page|post)|friends?|free|access|now|today|here|app|newsletter"
    r"|whatsapp|telegram|facebook|instagram|twitter|youtube|tiktok|linkedin|podcast|unser\w*|euch|dich|vous|votre"
    r"|nous|notre|nos|nuestr\w+|tus?|noss[oa]s?|ci|nostr\w|tuo|tua|artikel|article|artículo|artigo|articolo)\b",
    _I)
_READER_QUESTION = re.compile(
    r"^(?:did you|do you|enjoyed|liked|like|vous avez|avez-vous|hat ihnen|gefällt ihnen|¿?te (?:ha )?gustado|gostou"
    r"|ti è piaciuto|vi è piaciuto)\b.{0,60}\b(?:article|story|artikel|artículo|artigo|articolo|newsletter|podcast)"
    r"\b.{0,20}\?$", _I)
_METERED = re.compile(
    r"\b(?:free|gratuit\w*|gratis|kostenlose?n?|gratuit[oa]s?)\s+(?:\w+\s+){0,2}(?:articles?|stories|artikel|artículos?"
    r"|artigos?|articoli)\b.{0,30}\b(?:left|remaining|restants?|übrig|restantes?|rimanenti)\b"
    r"|\b(?:articles?|stories) (?:left|remaining) this month\b", _I)
_MEMBERS_ONLY = re.compile(
    r"\b(?:réservée?s?|reservad[oa]s?|exclusiv[oea]s?|only|nur|riservat[oa]|solo|apenas)\s+(?:\w+\s+){0,2}"
    r"(?:abonnés|suscriptores|subscribers|abonnenten|abbonati|assinantes|members|mitglieder)\b", _I)


def is_pitch(text: str) -> bool:
    """Newsletter, app, membership and sharing pitches, in several languages."""
    if _PITCH.match(text) or _READER_QUESTION.match(text):
        return True
    words = len(text.split())
    if words <= 20 and (_MEMBERS_ONLY.search(text) or _METERED.search(text)):
        return True
    short = words <= 5 and not any(mark in text for mark in ',"“”«»')  # not "Get out," the guard said
    return words <= 14 and bool(_CTA_START.match(text)) and (short or bool(_READER.search(text)))


def is_teaser(text: str) -> bool:
    return bool(_TEASER.match(text))


def is_caption(text: str) -> bool:
    """A line that ends in a photo credit ("… Photograph: Jane Doe/Agency") is a caption."""
    return (":" in text or "/" in text or "(" in text) and bool(_CREDIT.search(text))


def is_noise(text: str) -> bool:
    """Never story text, whatever the summarizer: timestamps, bare addresses, notices, pitches,
    teasers and credited captions. A long paragraph is never noise as a whole (see
    `strip_notices` for a notice sentence inside one)."""
    text = text.strip()
    if len(text.split()) > 60:
        return False
    notice = is_legal_notice(text) and len(strip_notices(text).split()) < 4  # the notice is all there is
    return (is_timestamp(text) or is_meta_line(text) or is_url_only(text) or notice
            or is_pitch(text) or is_teaser(text) or is_caption(text))


_SENTENCE_AROUND = r"[^.!?\n]*(?:{})[^.!?\n]*(?:[.!?]+|$)"
_LEGAL_SENTENCE = re.compile(_SENTENCE_AROUND.format(_LEGAL.pattern.replace("^\\s*", "(?<![^\\s])")), _I)


def strip_notices(text: str) -> str:
    """Cut legal and reprint notice sentences out of a longer paragraph."""
    return _LEGAL_SENTENCE.sub(" ", text) if is_legal_notice(text) else text
