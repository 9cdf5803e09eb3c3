# ruff: noqa: E501
"""The gateway's spoken sentences, per locale (see gateway/speech.py). Data only.

Keys: ``error.<ErrorClass>`` for each error's default ``say``; ``validation.*`` for what a caller is still
asked for; the rest per action or notification. Templates use ``str.format`` fields; a field never holds a
symbol (money and dates arrive already in words from gateway.speech). en-US falls back to en-GB for every
sentence it does not override, and every locale falls back to en-GB (tests/gateway/test_speech_catalogue.py
checks that no locale actually needs that).
"""

from __future__ import annotations

FALLBACK: dict[str, str] = {"en-US": "en-GB"}

EN: dict[str, str] = {
    "factor.postal_code": "your billing postcode",
    "factor.card_last4": "the last 4 digits of a card you've paid with",
    "factor.email": "the email address on your account",
    "factor.another": "another detail",
    "error.AmbiguousCustomer": "I found more than one account with those details. Could you give me another detail?",
    "error.BadRequest": "Sorry, I couldn't process that request.",
    "error.CardDataNotAccepted": (
        "For your security, please don't read out your card details. I can transfer you to our secure payment "
        "line, where you key them in on your phone."
    ),
    "error.Conflict": "Sorry, something went wrong on my side. Please try again in a moment.",
    "error.CustomerNotFound": "I couldn't find an account with those details.",
    "error.EscalationRequired": "This needs one of my colleagues. I've passed it on to them.",
    "error.Forbidden": "Sorry, I'm not able to do that for you.",
    "error.GatewayError": "Sorry, something went wrong on my side. Please try again in a moment.",
    "error.HeadersTooLarge": "Sorry, I couldn't process that request.",
    "error.IdempotencyKeyRequired": "Sorry, I couldn't process that request.",
    "error.IdempotencyKeyReused": "Sorry, something went wrong with that request.",
    "error.InvalidJson": "Sorry, I couldn't process that request.",
    "error.JsonTooDeep": "Sorry, some of the details I have aren't right. Could you repeat them?",
    "error.MalformedRequest": "Sorry, I couldn't process that request.",
    "error.NotFound": "Sorry, I couldn't find that.",
    "error.OperationNotFound": "Sorry, I can't find that request any more.",
    "error.PayloadTooLarge": "Sorry, I couldn't process that request.",
    "error.PaymentDeclined": "Sorry, that didn't go through.",
    "error.PolicyRefused": "Sorry, I can't do that.",
    "error.ProviderOutcomeUnknown": "I'm still confirming that with our payment system, one moment please.",
    "error.ProviderUnavailable": (
        "Our payment system isn't responding right now. Please bear with me or try again shortly."
    ),
    "error.RateLimited": "I'm a bit busy right now, one moment please.",
    "error.RequestInProgress": "I'm still working on that, one moment please.",
    "error.RequestTimeout": "Sorry, I couldn't process that request.",
    "error.ServiceUnavailable": "Sorry, I can't reach our payment system right now. Please try again shortly.",
    "error.Unauthorized": "Sorry, I can't access payment information right now.",
    "error.UnknownAction": "Sorry, I couldn't find that.",
    "error.Unprocessable": "Sorry, I can't do that.",
    "error.UnsupportedMediaType": "Sorry, I couldn't process that request.",
    "error.ValidationFailed": "Sorry, some of the details I have aren't right. Could you repeat them?",
    "error.VerificationFailed": "Sorry, I wasn't able to verify those details.",
    "error.VerificationRequired": "Before I can do that, I need to verify a couple of details with you.",
    "validation.need": "I still need {things}.",
    "validation.wrong": "Sorry, I didn't catch {things} properly. Could you say it again?",
    "validation.or": "{a} or {b}",
    "validation.and": "{a} and {b}",
    "field.customer": "the customer's email or phone number",
    "field.email": "the email address",
    "field.phone": "the phone number",
    "field.customer_id": "the customer's account",
    "field.payment_id": "the payment reference",
    "field.amount": "the amount",
    "field.reason": "the reason",
    "field.postal_code": "the postcode",
    "field.card_last4": "the last four digits of the card",
    "field.email_on_file": "the email address on the account",
    "field.percent_off": "the discount",
    "field.amount_off": "the discount",
    "field.capture_id": "the card payment",
    "field.operation_id": "the request I was working on",
    "field.other": "a few more details",
    "spell.letter": "{letter} as in {word}",
    "email.ending": "the email ending in {domain}",
    "card.ending": "your {brand} ending {digits}",
    "ping.online": "The payment system is online.",
    "operation.pending": "One moment while I check that.",
    "operation.still_running": "It's still going through. One moment.",
    "phone.unclear": "Sorry, I didn't catch that phone number. Could you say it again?",
    "verify.ok": "Thank you, you're verified.",
    "verify.locked": (
        "I'm sorry, I can't verify your details over the phone right now. I can pass you to one of my "
        "colleagues instead."
    ),
    "verify.mismatch": "Sorry, those details don't match what we have on file.",
    "verify.retry": "Could you check them and try again?",
    "verify.need": "To check it's you, I also need {ask}.",
    "payment.not_found": "I couldn't find a payment with that reference.",
    "payment.none": "I found your account, but I can't see any payments on it.",
    "payment.earlier_one": "I can see 1 earlier payment too.",
    "payment.earlier_many": "I can see {count} earlier payments too.",
    "subscription.none": "I can't find any subscriptions on that account.",
    "reference.is": "Your reference is {reference}.",
    "code.is": "Your code is {code}.",
    "money.sample": "That's {amount}, on {date}.",
}

EN_US: dict[str, str] = {
    "factor.postal_code": "your billing ZIP code",
    "field.postal_code": "the ZIP code",
    "error.Conflict": "Sorry, something went wrong on my end. Please try again in a moment.",
    "error.GatewayError": "Sorry, something went wrong on my end. Please try again in a moment.",
}

ES: dict[str, str] = {
    "factor.postal_code": "su código postal de facturación",
    "factor.card_last4": "los 4 últimos dígitos de una tarjeta con la que haya pagado",
    "factor.email": "el correo electrónico de su cuenta",
    "factor.another": "otro dato",
    "error.AmbiguousCustomer": "He encontrado más de una cuenta con esos datos. ¿Podría darme otro dato?",
    "error.BadRequest": "Lo siento, no he podido procesar esa solicitud.",
    "error.CardDataNotAccepted": (
        "Por su seguridad, no lea en voz alta los datos de su tarjeta. Puedo pasarle a nuestra línea de pago "
        "segura, donde los marca en el teclado de su teléfono."
    ),
    "error.Conflict": "Lo siento, algo ha fallado por mi parte. Inténtelo de nuevo en un momento.",
    "error.CustomerNotFound": "No he encontrado ninguna cuenta con esos datos.",
    "error.EscalationRequired": "Esto lo tiene que ver un compañero. Ya se lo he pasado.",
    "error.Forbidden": "Lo siento, no puedo hacer eso por usted.",
    "error.GatewayError": "Lo siento, algo ha fallado por mi parte. Inténtelo de nuevo en un momento.",
    "error.HeadersTooLarge": "Lo siento, no he podido procesar esa solicitud.",
    "error.IdempotencyKeyRequired": "Lo siento, no he podido procesar esa solicitud.",
    "error.IdempotencyKeyReused": "Lo siento, algo ha fallado con esa solicitud.",
    "error.InvalidJson": "Lo siento, no he podido procesar esa solicitud.",
    "error.JsonTooDeep": "Lo siento, algunos de los datos que tengo no son correctos. ¿Podría repetirlos?",
    "error.MalformedRequest": "Lo siento, no he podido procesar esa solicitud.",
    "error.NotFound": "Lo siento, no lo he encontrado.",
    "error.OperationNotFound": "Lo siento, ya no encuentro esa solicitud.",
    "error.PayloadTooLarge": "Lo siento, no he podido procesar esa solicitud.",
    "error.PaymentDeclined": "Lo siento, no se ha podido completar.",
    "error.PolicyRefused": "Lo siento, no puedo hacer eso.",
    "error.ProviderOutcomeUnknown": "Todavía lo estoy confirmando con nuestro sistema de pagos, un momento por favor.",
    "error.ProviderUnavailable": (
        "Nuestro sistema de pagos no responde en este momento. Espere un poco o inténtelo de nuevo en breve."
    ),
    "error.RateLimited": "Estoy un poco ocupado ahora mismo, un momento por favor.",
    "error.RequestInProgress": "Todavía estoy con ello, un momento por favor.",
    "error.RequestTimeout": "Lo siento, no he podido procesar esa solicitud.",
    "error.ServiceUnavailable": (
        "Lo siento, no puedo acceder a nuestro sistema de pagos ahora mismo. Inténtelo de nuevo en breve."
    ),
    "error.Unauthorized": "Lo siento, no puedo acceder a la información de pagos ahora mismo.",
    "error.UnknownAction": "Lo siento, no lo he encontrado.",
    "error.Unprocessable": "Lo siento, no puedo hacer eso.",
    "error.UnsupportedMediaType": "Lo siento, no he podido procesar esa solicitud.",
    "error.ValidationFailed": "Lo siento, algunos de los datos que tengo no son correctos. ¿Podría repetirlos?",
    "error.VerificationFailed": "Lo siento, no he podido verificar esos datos.",
    "error.VerificationRequired": "Antes de hacerlo, necesito comprobar un par de datos con usted.",
    "validation.need": "Todavía necesito {things}.",
    "validation.wrong": "Lo siento, no he entendido bien {things}. ¿Podría repetirlo?",
    "validation.or": "{a} o {b}",
    "validation.and": "{a} y {b}",
    "field.customer": "el correo electrónico o el teléfono del cliente",
    "field.email": "el correo electrónico",
    "field.phone": "el número de teléfono",
    "field.customer_id": "la cuenta del cliente",
    "field.payment_id": "la referencia del pago",
    "field.amount": "el importe",
    "field.reason": "el motivo",
    "field.postal_code": "el código postal",
    "field.card_last4": "los cuatro últimos dígitos de la tarjeta",
    "field.email_on_file": "el correo electrónico de la cuenta",
    "field.percent_off": "el descuento",
    "field.amount_off": "el descuento",
    "field.capture_id": "el pago con tarjeta",
    "field.operation_id": "la solicitud en curso",
    "field.other": "algunos datos más",
    "spell.letter": "{letter} de {word}",
    "email.ending": "el correo que termina en {domain}",
    "card.ending": "su {brand} terminada en {digits}",
    "ping.online": "El sistema de pagos está disponible.",
    "operation.pending": "Un momento mientras lo compruebo.",
    "operation.still_running": "Todavía se está procesando. Un momento.",
    "phone.unclear": "Lo siento, no he entendido ese número de teléfono. ¿Podría repetirlo?",
    "verify.ok": "Gracias, ya está verificado.",
    "verify.locked": (
        "Lo siento, ahora mismo no puedo verificar sus datos por teléfono. Puedo pasarle con un compañero."
    ),
    "verify.mismatch": "Lo siento, esos datos no coinciden con los que tenemos.",
    "verify.retry": "¿Podría comprobarlos e intentarlo de nuevo?",
    "verify.need": "Para comprobar que es usted, también necesito {ask}.",
    "payment.not_found": "No he encontrado ningún pago con esa referencia.",
    "payment.none": "He encontrado su cuenta, pero no veo ningún pago en ella.",
    "payment.earlier_one": "También veo 1 pago anterior.",
    "payment.earlier_many": "También veo {count} pagos anteriores.",
    "subscription.none": "No encuentro ninguna suscripción en esa cuenta.",
    "reference.is": "Su referencia es {reference}.",
    "code.is": "Su código es {code}.",
    "money.sample": "Son {amount}, el {date}.",
}

FR: dict[str, str] = {
    "factor.postal_code": "votre code postal de facturation",
    "factor.card_last4": "les 4 derniers chiffres d'une carte avec laquelle vous avez payé",
    "factor.email": "l'adresse e-mail de votre compte",
    "factor.another": "une autre information",
    "error.AmbiguousCustomer": "J'ai trouvé plusieurs comptes avec ces informations. Pourriez-vous me donner un autre détail ?",
    "error.BadRequest": "Désolé, je n'ai pas pu traiter cette demande.",
    "error.CardDataNotAccepted": (
        "Pour votre sécurité, ne lisez pas vos données de carte à voix haute. Je peux vous transférer vers "
        "notre ligne de paiement sécurisée, où vous les tapez sur votre téléphone."
    ),
    "error.Conflict": "Désolé, un problème est survenu de mon côté. Veuillez réessayer dans un instant.",
    "error.CustomerNotFound": "Je n'ai trouvé aucun compte avec ces informations.",
    "error.EscalationRequired": "Cela nécessite l'un de mes collègues. Je lui ai transmis votre demande.",
    "error.Forbidden": "Désolé, je ne peux pas faire cela pour vous.",
    "error.GatewayError": "Désolé, un problème est survenu de mon côté. Veuillez réessayer dans un instant.",
    "error.HeadersTooLarge": "Désolé, je n'ai pas pu traiter cette demande.",
    "error.IdempotencyKeyRequired": "Désolé, je n'ai pas pu traiter cette demande.",
    "error.IdempotencyKeyReused": "Désolé, un problème est survenu avec cette demande.",
    "error.InvalidJson": "Désolé, je n'ai pas pu traiter cette demande.",
    "error.JsonTooDeep": "Désolé, certaines informations ne sont pas correctes. Pourriez-vous les répéter ?",
    "error.MalformedRequest": "Désolé, je n'ai pas pu traiter cette demande.",
    "error.NotFound": "Désolé, je ne l'ai pas trouvé.",
    "error.OperationNotFound": "Désolé, je ne retrouve plus cette demande.",
    "error.PayloadTooLarge": "Désolé, je n'ai pas pu traiter cette demande.",
    "error.PaymentDeclined": "Désolé, cela n'a pas abouti.",
    "error.PolicyRefused": "Désolé, je ne peux pas faire cela.",
    "error.ProviderOutcomeUnknown": "Je vérifie encore auprès de notre système de paiement, un instant s'il vous plaît.",
    "error.ProviderUnavailable": (
        "Notre système de paiement ne répond pas pour le moment. Merci de patienter ou de réessayer bientôt."
    ),
    "error.RateLimited": "Je suis un peu occupé, un instant s'il vous plaît.",
    "error.RequestInProgress": "Je m'en occupe encore, un instant s'il vous plaît.",
    "error.RequestTimeout": "Désolé, je n'ai pas pu traiter cette demande.",
    "error.ServiceUnavailable": (
        "Désolé, je ne peux pas joindre notre système de paiement pour le moment. Veuillez réessayer bientôt."
    ),
    "error.Unauthorized": "Désolé, je ne peux pas accéder aux informations de paiement pour le moment.",
    "error.UnknownAction": "Désolé, je ne l'ai pas trouvé.",
    "error.Unprocessable": "Désolé, je ne peux pas faire cela.",
    "error.UnsupportedMediaType": "Désolé, je n'ai pas pu traiter cette demande.",
    "error.ValidationFailed": "Désolé, certaines informations ne sont pas correctes. Pourriez-vous les répéter ?",
    "error.VerificationFailed": "Désolé, je n'ai pas pu vérifier ces informations.",
    "error.VerificationRequired": "Avant de faire cela, je dois vérifier quelques informations avec vous.",
    "validation.need": "Il me faut encore {things}.",
    "validation.wrong": "Désolé, je n'ai pas bien compris {things}. Pourriez-vous répéter ?",
    "validation.or": "{a} ou {b}",
    "validation.and": "{a} et {b}",
    "field.customer": "l'adresse e-mail ou le numéro de téléphone du client",
    "field.email": "l'adresse e-mail",
    "field.phone": "le numéro de téléphone",
    "field.customer_id": "le compte du client",
    "field.payment_id": "la référence du paiement",
    "field.amount": "le montant",
    "field.reason": "le motif",
    "field.postal_code": "le code postal",
    "field.card_last4": "les quatre derniers chiffres de la carte",
    "field.email_on_file": "l'adresse e-mail du compte",
    "field.percent_off": "la remise",
    "field.amount_off": "la remise",
    "field.capture_id": "le paiement par carte",
    "field.operation_id": "la demande en cours",
    "field.other": "quelques informations de plus",
    "spell.letter": "{letter} comme {word}",
    "email.ending": "l'adresse e-mail qui se termine par {domain}",
    "card.ending": "votre carte {brand} se terminant par {digits}",
    "ping.online": "Le système de paiement est disponible.",
    "operation.pending": "Un instant, je vérifie.",
    "operation.still_running": "C'est toujours en cours. Un instant.",
    "phone.unclear": "Désolé, je n'ai pas compris ce numéro de téléphone. Pourriez-vous le répéter ?",
    "verify.ok": "Merci, votre identité est vérifiée.",
    "verify.locked": (
        "Désolé, je ne peux pas vérifier vos informations par téléphone pour le moment. Je peux vous passer "
        "l'un de mes collègues."
    ),
    "verify.mismatch": "Désolé, ces informations ne correspondent pas à celles de votre dossier.",
    "verify.retry": "Pourriez-vous les vérifier et réessayer ?",
    "verify.need": "Pour vérifier qu'il s'agit bien de vous, il me faut aussi {ask}.",
    "payment.not_found": "Je n'ai trouvé aucun paiement avec cette référence.",
    "payment.none": "J'ai trouvé votre compte, mais je ne vois aucun paiement.",
    "payment.earlier_one": "Je vois aussi 1 paiement antérieur.",
    "payment.earlier_many": "Je vois aussi {count} paiements antérieurs.",
    "subscription.none": "Je ne trouve aucun abonnement sur ce compte.",
    "reference.is": "Votre référence est {reference}.",
    "code.is": "Votre code est {code}.",
    "money.sample": "Cela fait {amount}, le {date}.",
}

DE: dict[str, str] = {
    "factor.postal_code": "Ihre Rechnungspostleitzahl",
    "factor.card_last4": "die letzten 4 Ziffern einer Karte, mit der Sie bezahlt haben",
    "factor.email": "die E-Mail-Adresse Ihres Kontos",
    "factor.another": "eine weitere Angabe",
    "error.AmbiguousCustomer": "Ich habe mehr als ein Konto mit diesen Angaben gefunden. Können Sie mir noch eine Angabe nennen?",
    "error.BadRequest": "Entschuldigung, das konnte ich nicht bearbeiten.",
    "error.CardDataNotAccepted": (
        "Zu Ihrer Sicherheit lesen Sie bitte Ihre Kartendaten nicht vor. Ich kann Sie mit unserer sicheren "
        "Zahlungsleitung verbinden, wo Sie sie über die Tastatur Ihres Telefons eingeben."
    ),
    "error.Conflict": "Entschuldigung, bei mir ist etwas schiefgelaufen. Bitte versuchen Sie es gleich noch einmal.",
    "error.CustomerNotFound": "Ich habe kein Konto mit diesen Angaben gefunden.",
    "error.EscalationRequired": "Das muss sich ein Kollege ansehen. Ich habe es weitergegeben.",
    "error.Forbidden": "Entschuldigung, das kann ich nicht für Sie erledigen.",
    "error.GatewayError": "Entschuldigung, bei mir ist etwas schiefgelaufen. Bitte versuchen Sie es gleich noch einmal.",
    "error.HeadersTooLarge": "Entschuldigung, das konnte ich nicht bearbeiten.",
    "error.IdempotencyKeyRequired": "Entschuldigung, das konnte ich nicht bearbeiten.",
    "error.IdempotencyKeyReused": "Entschuldigung, bei dieser Anfrage ist etwas schiefgelaufen.",
    "error.InvalidJson": "Entschuldigung, das konnte ich nicht bearbeiten.",
    "error.JsonTooDeep": "Entschuldigung, einige Angaben stimmen nicht. Können Sie sie wiederholen?",
    "error.MalformedRequest": "Entschuldigung, das konnte ich nicht bearbeiten.",
    "error.NotFound": "Entschuldigung, das habe ich nicht gefunden.",
    "error.OperationNotFound": "Entschuldigung, diese Anfrage finde ich nicht mehr.",
    "error.PayloadTooLarge": "Entschuldigung, das konnte ich nicht bearbeiten.",
    "error.PaymentDeclined": "Entschuldigung, das hat nicht geklappt.",
    "error.PolicyRefused": "Entschuldigung, das kann ich nicht tun.",
    "error.ProviderOutcomeUnknown": "Ich kläre das noch mit unserem Zahlungssystem, einen Moment bitte.",
    "error.ProviderUnavailable": (
        "Unser Zahlungssystem antwortet gerade nicht. Bitte haben Sie etwas Geduld oder versuchen Sie es gleich noch einmal."
    ),
    "error.RateLimited": "Ich bin gerade etwas beschäftigt, einen Moment bitte.",
    "error.RequestInProgress": "Ich bin noch dabei, einen Moment bitte.",
    "error.RequestTimeout": "Entschuldigung, das konnte ich nicht bearbeiten.",
    "error.ServiceUnavailable": (
        "Entschuldigung, ich erreiche unser Zahlungssystem gerade nicht. Bitte versuchen Sie es gleich noch einmal."
    ),
    "error.Unauthorized": "Entschuldigung, ich kann gerade nicht auf die Zahlungsdaten zugreifen.",
    "error.UnknownAction": "Entschuldigung, das habe ich nicht gefunden.",
    "error.Unprocessable": "Entschuldigung, das kann ich nicht tun.",
    "error.UnsupportedMediaType": "Entschuldigung, das konnte ich nicht bearbeiten.",
    "error.ValidationFailed": "Entschuldigung, einige Angaben stimmen nicht. Können Sie sie wiederholen?",
    "error.VerificationFailed": "Entschuldigung, ich konnte diese Angaben nicht bestätigen.",
    "error.VerificationRequired": "Bevor ich das tun kann, muss ich ein paar Angaben mit Ihnen prüfen.",
    "validation.need": "Ich brauche noch {things}.",
    "validation.wrong": "Entschuldigung, ich habe {things} nicht richtig verstanden. Können Sie das wiederholen?",
    "validation.or": "{a} oder {b}",
    "validation.and": "{a} und {b}",
    "field.customer": "die E-Mail-Adresse oder Telefonnummer des Kunden",
    "field.email": "die E-Mail-Adresse",
    "field.phone": "die Telefonnummer",
    "field.customer_id": "das Kundenkonto",
    "field.payment_id": "die Zahlungsreferenz",
    "field.amount": "den Betrag",
    "field.reason": "den Grund",
    "field.postal_code": "die Postleitzahl",
    "field.card_last4": "die letzten vier Ziffern der Karte",
    "field.email_on_file": "die E-Mail-Adresse des Kontos",
    "field.percent_off": "den Rabatt",
    "field.amount_off": "den Rabatt",
    "field.capture_id": "die Kartenzahlung",
    "field.operation_id": "die laufende Anfrage",
    "field.other": "noch ein paar Angaben",
    "spell.letter": "{letter} wie {word}",
    "email.ending": "die E-Mail-Adresse, die auf {domain} endet",
    "card.ending": "Ihre {brand} mit der Endung {digits}",
    "ping.online": "Das Zahlungssystem ist erreichbar.",
    "operation.pending": "Einen Moment, ich sehe nach.",
    "operation.still_running": "Das läuft noch. Einen Moment.",
    "phone.unclear": "Entschuldigung, ich habe die Telefonnummer nicht verstanden. Können Sie sie wiederholen?",
    "verify.ok": "Danke, Sie sind bestätigt.",
    "verify.locked": (
        "Es tut mir leid, ich kann Ihre Angaben gerade nicht am Telefon prüfen. Ich kann Sie mit einem "
        "Kollegen verbinden."
    ),
    "verify.mismatch": "Entschuldigung, diese Angaben stimmen nicht mit unseren Daten überein.",
    "verify.retry": "Können Sie sie prüfen und es noch einmal versuchen?",
    "verify.need": "Um zu prüfen, dass Sie es sind, brauche ich noch {ask}.",
    "payment.not_found": "Ich habe keine Zahlung mit dieser Referenz gefunden.",
    "payment.none": "Ich habe Ihr Konto gefunden, sehe darauf aber keine Zahlungen.",
    "payment.earlier_one": "Ich sehe auch 1 frühere Zahlung.",
    "payment.earlier_many": "Ich sehe auch {count} frühere Zahlungen.",
    "subscription.none": "Ich finde auf diesem Konto keine Abonnements.",
    "reference.is": "Ihre Referenz lautet {reference}.",
    "code.is": "Ihr Code lautet {code}.",
    "money.sample": "Das sind {amount}, am {date}.",
}

CATALOGUE: dict[str, dict[str, str]] = {"en-GB": EN, "en-US": EN_US, "es-ES": ES, "fr-FR": FR, "de-DE": DE}

#: Single words (card brands); the same in every locale unless overridden.
WORDS: dict[str, dict[str, str]] = {
    "en-GB": {"card": "card"},
    "es-ES": {"card": "tarjeta"},
    "fr-FR": {"card": "carte"},
    "de-DE": {"card": "Karte"},
}

#: Phonetic alphabets: NATO in English; the usual telephone spelling alphabets elsewhere (Spanish names of
#: the ITU-era Spanish alphabet, the French "Anatole" alphabet, DIN 5009 in German).
PHONETIC: dict[str, dict[str, str]] = {
    "en": {
        "A": "alpha", "B": "bravo", "C": "charlie", "D": "delta", "E": "echo", "F": "foxtrot", "G": "golf",
        "H": "hotel", "I": "india", "J": "juliett", "K": "kilo", "L": "lima", "M": "mike", "N": "november",
        "O": "oscar", "P": "papa", "Q": "quebec", "R": "romeo", "S": "sierra", "T": "tango", "U": "uniform",
        "V": "victor", "W": "whiskey", "X": "x-ray", "Y": "yankee", "Z": "zulu",
    },
    "es": {
        "A": "Antonio", "B": "Barcelona", "C": "Carmen", "D": "Dolores", "E": "Enrique", "F": "Francia",
        "G": "Gerona", "H": "Historia", "I": "Inés", "J": "José", "K": "Kilo", "L": "Lorenzo", "M": "Madrid",
        "N": "Navarra", "O": "Oviedo", "P": "París", "Q": "Querido", "R": "Ramón", "S": "Sábado",
        "T": "Tarragona", "U": "Ulises", "V": "Valencia", "W": "Washington", "X": "Xiquena", "Y": "Yegua",
        "Z": "Zaragoza",
    },
    "fr": {
        "A": "Anatole", "B": "Berthe", "C": "Célestin", "D": "Désiré", "E": "Eugène", "F": "François",
        "G": "Gaston", "H": "Henri", "I": "Irma", "J": "Joseph", "K": "Kléber", "L": "Louis", "M": "Marcel",
        "N": "Nicolas", "O": "Oscar", "P": "Pierre", "Q": "Quintal", "R": "Raoul", "S": "Suzanne",
        "T": "Thérèse", "U": "Ursule", "V": "Victor", "W": "William", "X": "Xavier", "Y": "Yvonne",
        "Z": "Zoé",
    },
    "de": {
        "A": "Aachen", "B": "Berlin", "C": "Chemnitz", "D": "Düsseldorf", "E": "Essen", "F": "Frankfurt",
        "G": "Goslar", "H": "Hamburg", "I": "Ingelheim", "J": "Jena", "K": "Köln", "L": "Leipzig",
        "M": "München", "N": "Nürnberg", "O": "Offenbach", "P": "Potsdam", "Q": "Quickborn",
        "R": "Rostock", "S": "Salzwedel", "T": "Tübingen", "U": "Unna", "V": "Völklingen", "W": "Wuppertal",
        "X": "Xanten", "Y": "Ypsilon", "Z": "Zwickau",
    },
}  # fmt: skip

DIGITS: dict[str, tuple[str, ...]] = {
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    "es": ("cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"),
    "fr": ("zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"),
    "de": ("null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"),
}
