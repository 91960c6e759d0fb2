package bot

import "maps"

// preflightTexts are the checklist the client reads before anything
// irreversible, and the message for their current provider. The message
// is written to be forwarded: it speaks as the client, to the provider.
var preflightTexts = map[msg][3]string{
	msgPreflightTitle: {
		"Before changing anything, I checked what can be checked:",
		"Antes de mudar qualquer coisa, verifiquei o que dá para verificar:",
		"Antes de cambiar nada, revisé lo que se puede revisar:",
	},
	msgPreNumberOK: {
		// The second %s is where: "in the United States", "no Brasil".
		"%s is a valid number %s.",
		"%s é um número válido %s.",
		"%s es un número válido %s.",
	},
	msgPreNumberNine: {
		"%s is a Brazilian mobile, written with the extra 9, as you typed it.",
		"%s é um celular brasileiro, escrito com o 9 extra, como você digitou.",
		"%s es un móvil brasileño, escrito con el 9 extra, como lo escribiste.",
	},
	msgPreNumberNoNine: {
		"%s is a Brazilian mobile, written without the extra 9, as you typed it: it must match the WhatsApp profile exactly.",
		"%s é um celular brasileiro, escrito sem o 9 extra, como você digitou: precisa ser exatamente igual ao perfil do WhatsApp.",
		"%s es un móvil brasileño, escrito sin el 9 extra, como lo escribiste: debe coincidir exactamente con el perfil de WhatsApp.",
	},
	msgPreNumberLandline: {
		"%s is a landline or toll-free number %s: an SMS can't reach it, so choose the *voice call* when I ask how the code should arrive.",
		"%s é um fixo ou 0800 %s: SMS não chega nele, então escolha a *ligação* quando eu perguntar como o código deve chegar.",
		"%s es un fijo o número gratuito %s: un SMS no le llega, así que elige la *llamada* cuando pregunte cómo debe llegar el código.",
	},
	msgPreNumberInvalid: {
		"%s doesn't look valid for its country: please check it.",
		"%s não parece válido para o país dele: confira, por favor.",
		"%s no parece válido para su país: revísalo, por favor.",
	},
	msgPreWABANotShared: {
		"We can't open the WhatsApp Business Account prepared for your number: it isn't shared with us yet.",
		"Não conseguimos abrir a conta do WhatsApp Business preparada para o seu número: ela ainda não está compartilhada conosco.",
		"No podemos abrir la cuenta de WhatsApp Business preparada para tu número: aún no está compartida con nosotros.",
	},
	msgPreWABAUnread: {
		"Meta didn't let us read the account prepared for your number just now; I'll go on, and Meta will say if something is missing.",
		"A Meta não deixou ler agora a conta preparada para o seu número; vou continuar, e a Meta avisa se faltar algo.",
		"Meta no nos dejó leer ahora la cuenta preparada para tu número; sigo, y Meta avisará si falta algo.",
	},
	msgPreWABAApproved: {
		"The account that will receive your number passed Meta's review.",
		"A conta que vai receber o seu número passou pela análise da Meta.",
		"La cuenta que recibirá tu número pasó la revisión de Meta.",
	},
	msgPreWABANotApproved: {
		"Meta hasn't approved the account that will receive your number yet.",
		"A Meta ainda não aprovou a conta que vai receber o seu número.",
		"Meta aún no aprobó la cuenta que recibirá tu número.",
	},
	msgPreWebhooksOK: {
		"That account is connected to our system.",
		"Essa conta está conectada ao nosso sistema.",
		"Esa cuenta está conectada a nuestro sistema.",
	},
	msgPreWebhooksFixed: {
		"That account wasn't connected to our system yet: I connected it (that part was ours).",
		"Essa conta ainda não estava conectada ao nosso sistema: eu conectei (essa parte era nossa).",
		"Esa cuenta aún no estaba conectada a nuestro sistema: la conecté (esa parte era nuestra).",
	},
	msgPreWebhooksStop: {
		"That account isn't connected to our system, and I couldn't connect it.",
		"Essa conta não está conectada ao nosso sistema, e não consegui conectar.",
		"Esa cuenta no está conectada a nuestro sistema, y no pude conectarla.",
	},
	msgPreInOurWABA: {
		"Your number is already in our account: we go on from the verification code, with no need to add it again.",
		"O seu número já está na nossa conta: seguimos a partir do código de verificação, sem precisar adicioná-lo de novo.",
		"Tu número ya está en nuestra cuenta: seguimos desde el código de verificación, sin necesidad de añadirlo de nuevo.",
	},
	msgPreRegistrationsSome: {
		"%s of the 10 registration attempts Meta allows for this number in 72 hours are used already; I'll be careful with the rest.",
		"%s das 10 tentativas de registro que a Meta permite para este número em 72 horas já foram usadas; vou ter cuidado com as outras.",
		"%s de los 10 intentos de registro que Meta permite para este número en 72 horas ya se usaron; tendré cuidado con los demás.",
	},
	msgPreRegistrationsOut: {
		"The 10 registration attempts Meta allows for this number in 72 hours are all used: the next one is possible from %s (UTC).",
		"As 10 tentativas de registro que a Meta permite para este número em 72 horas já foram usadas: a próxima é possível a partir de %s (UTC).",
		"Los 10 intentos de registro que Meta permite para este número en 72 horas ya se usaron: el siguiente es posible desde %s (UTC).",
	},
	msgPreTemplates: {
		"%s of your %s message templates can be copied.",
		"%s dos seus %s modelos de mensagem podem ser copiados.",
		"%s de tus %s plantillas de mensaje se pueden copiar.",
	},
	msgPreTemplatesUnread: {
		"I couldn't read the message templates of your current account; Meta copies the high-quality ones by itself.",
		"Não consegui ler os modelos de mensagem da sua conta atual; a Meta copia sozinha os de alta qualidade.",
		"No pude leer las plantillas de mensaje de tu cuenta actual; Meta copia sola las de alta calidad.",
	},
	msgPreStoppedUs: {
		"So I stopped before anything that can't be undone: your number hasn't been touched. What's missing is ours to fix: our team has been told and will continue with you.",
		"Por isso parei antes de qualquer passo sem volta: o seu número não foi mexido. O que falta é com a gente: nossa equipe foi avisada e vai continuar com você.",
		"Por eso me detuve antes de cualquier paso sin vuelta atrás: tu número no se tocó. Lo que falta nos toca a nosotros: nuestro equipo ya fue avisado y seguirá contigo.",
	},
	msgPreStoppedWait: {
		"So I stopped before anything that can't be undone: your number hasn't been touched. Nobody has to do anything: we only have to wait until then.",
		"Por isso parei antes de qualquer passo sem volta: o seu número não foi mexido. Ninguém precisa fazer nada: só temos que esperar até lá.",
		"Por eso me detuve antes de cualquier paso sin vuelta atrás: tu número no se tocó. Nadie tiene que hacer nada: solo hay que esperar hasta entonces.",
	},
	msgBlockedFooterLetter: {
		"When it's sorted, send *done* and we'll pick up right here. Tap *Message for provider* for a ready-to-forward message that asks your current provider for exactly this.",
		"Quando estiver resolvido, envie *pronto* e continuamos daqui. Toque em *Mensagem p/ provedor* para receber uma mensagem pronta para encaminhar, que pede exatamente isso ao seu provedor atual.",
		"Cuando esté resuelto, envía *listo* y seguimos desde aquí. Toca *Mensaje al proveedor* para recibir un mensaje listo para reenviar, que le pide exactamente esto a tu proveedor actual.",
	},
	msgBtnLetter: {"Message for provider", "Mensagem p/ provedor", "Mensaje al proveedor"},
	msgLetterAskPhone: {
		"The message must name the number that is moving: type it with the country code, e.g. +55 11 98765-4321.",
		"A mensagem precisa dizer qual número vai mudar: digite com o código do país, por exemplo +55 11 98765-4321.",
		"El mensaje debe decir qué número se mueve: escríbelo con el código de país, por ejemplo +55 11 98765-4321.",
	},
	msgLetterIntro: {
		"Here is a message for your current provider. Forward it to them as it is (press and hold it, then *Forward*), or paste it into an e-mail.",
		"Aqui está uma mensagem para o seu provedor atual, com uma cópia em inglês embaixo. Encaminhe do jeito que está (toque e segure, depois *Encaminhar*), ou cole num e-mail.",
		"Aquí tienes un mensaje para tu proveedor actual, con una copia en inglés debajo. Reenvíalo tal cual (mantenlo pulsado y luego *Reenviar*), o pégalo en un correo.",
	},
	msgLetterBody: {
		"To our current WhatsApp Business provider (BSP):\n\nHello. We are moving our WhatsApp Business number %s to another provider (BSP).\n\n*What we ask:* %s\n\n*Why:* %s\n\nMeta's page about it: %s\n\nPlease tell us when it is done. Thank you.",
		"Para o nosso provedor atual do WhatsApp Business (BSP):\n\nOlá. Estamos transferindo o nosso número do WhatsApp Business %s para outro provedor (BSP).\n\n*O que pedimos:* %s\n\n*Por quê:* %s\n\nPágina da Meta sobre isso: %s\n\nPor favor, avisem quando estiver feito. Obrigado.",
		"Para nuestro proveedor actual de WhatsApp Business (BSP):\n\nHola. Estamos trasladando nuestro número de WhatsApp Business %s a otro proveedor (BSP).\n\n*Lo que pedimos:* %s\n\n*Por qué:* %s\n\nPágina de Meta al respecto: %s\n\nPor favor, avísennos cuando esté hecho. Gracias.",
	},
	msgLetterAsk2FA: {
		"please turn off two-step verification for the number %s (WhatsApp Manager → Account tools → Phone numbers → the number → Two-step verification → Turn off).",
		"por favor, desativem a verificação em duas etapas do número %s (Gerenciador do WhatsApp → Ferramentas da conta → Números de telefone → o número → Verificação em duas etapas → Desativar).",
		"por favor, desactiven la verificación en dos pasos del número %s (Administrador de WhatsApp → Herramientas de la cuenta → Números de teléfono → el número → Verificación en dos pasos → Desactivar).",
	},
	msgLetterWhy2FA: {
		"Meta moves a number to another provider only while its two-step verification is off; while it is on, Meta refuses the move.",
		"A Meta só transfere um número para outro provedor com a verificação em duas etapas desativada; enquanto ela estiver ativada, a Meta recusa a transferência.",
		"Meta solo traslada un número a otro proveedor con la verificación en dos pasos desactivada; mientras esté activada, Meta rechaza el traslado.",
	},
	msgLetterAskName: {
		"please complete the approval of the display name of the number %s (or withdraw the pending name change), so that it shows as Approved.",
		"por favor, concluam a aprovação do nome de exibição do número %s (ou retirem a alteração de nome pendente), para que ele apareça como Aprovado.",
		"por favor, completen la aprobación del nombre para mostrar del número %s (o retiren el cambio de nombre pendiente), para que aparezca como Aprobado.",
	},
	msgLetterWhyName: {
		"Meta moves a number to another provider only when its display name is approved, with no name change pending.",
		"A Meta só transfere um número para outro provedor quando o nome de exibição está aprovado, sem alteração de nome pendente.",
		"Meta solo traslada un número a otro proveedor cuando su nombre para mostrar está aprobado, sin cambios de nombre pendientes.",
	},
}

func init() { maps.Copy(texts, preflightTexts) }
