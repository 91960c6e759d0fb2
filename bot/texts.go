package bot

import "fmt"

// msg names one thing the bot says; texts holds it in every language.
type msg int

const (
	msgWelcome msg = iota
	msgMenu
	msgBtnStart
	msgBtnContinue
	msgBtnQuestion
	msgBtnPerson
	msgAskQuestion
	msgBtnYes
	msgBtnNo
	msgBtnFixed
	msgCheckBM
	msgCheck2FA
	msgCheckReception
	msgCheckDisplayName
	msgBlockedBM
	msgBlocked2FA
	msgBlockedReception
	msgBlockedDisplayName
	msgBlockedFooter
	msgNotFixedYet
	msgChecksOK
	msgAskPhone
	msgRetryHint
	msgPhoneInvalid
	msgPhoneNeedsCode
	msgPhoneOK
	msgBrazilNine
	msgAskSourceWABA
	msgBtnSkip
	msgSourceWABAInvalid
	msgAwaitWABA
	msgAdding
	msgChooseMethod
	msgBtnSMS
	msgBtnVoice
	msgCodeSentSMS
	msgCodeSentVoice
	msgAwaitCode
	msgBtnResend
	msgCodeLetters
	msgCodeFormat
	msgCooldown
	msgCodeWrong
	msgCodeTooManyWrong
	msgVerified
	msgAskPin
	msgAskPinAgain
	msgPinFormat
	msgPinWeak
	msgPinMismatch
	msgRegistered
	msgDone
	msgDoneTemplates
	msgDoneTemplatesFailed
	msgDoneNoSource
	msgDoneFooter
	msgDoneUnchanged
	msgDoneNo
	msgDoneYes
	msgWaitSecond
	msgWaitSeconds
	msgWaitMinute
	msgWaitMinutes
	msgTriesLeftOne
	msgTriesLeftMany
	msgCancelled
	msgHandoff
	msgHandoffCase
	msgFailed
	msgFailedRetry
	msgRetryLater
	msgRetryLaterIn
	msgTwoFAStillOn
	msgSlowDown
	msgAgentJoined
	msgAgentLeft
	msgTwoFAOff
	msgDisplayNamePending
	msgAlreadyOnWABA
	msgNoWebhooks
	msgOtherPortfolio
	msgMessagingFor
	msgAddDirectly
	msgSourceNotSetUp
	msgRegisterLimit
	msgPinRejected
	msgHelp
	msgChooseLang
	msgLangSet
	msgTextOnly
	msgEmpty
	msgTooLong
	msgStaleButton
	msgNotUnderstood
	msgNotUnderstoodPerson
	msgBackTo
	msgYesNo
	msgResumeAfterCrashCode
	msgCodeMaybeSent
	msgResumeAfterCrashPin
	msgVerifyAgain
	msgCaseDone
	msgCaseClosedMenu
	msgNothingToCancel
	msgPhoneReadLocal
	msgBye
	msgByePort
	msgThanks
	msgAbout
	msgGreetingBack
	msgUnsureBM
	msgUnsure2FA
	msgUnsureReception
	msgUnsureDisplayName
	msgHandoffWaiting
	msgHandoffLeft
	msgNoAgentHere
	msgPhoneWhich
	msgAlsoAsked
	msgSignupLink
	msgSignupWaiting
	msgSignupExpired
	msgSignupCancelled
	msgSignupError
	msgSignupExchangeFailed
	msgSignupSubscribeFailed
	msgSignupReady
	msgStepUnknown
	// The pre-flight and the message for the current provider
	// (texts_preflight.go).
	msgPreflightTitle
	msgPreNumberOK
	msgPreNumberNine
	msgPreNumberNoNine
	msgPreNumberLandline
	msgPreNumberInvalid
	msgPreWABANotShared
	msgPreWABAUnread
	msgPreWABAApproved
	msgPreWABANotApproved
	msgPreWebhooksOK
	msgPreWebhooksFixed
	msgPreWebhooksStop
	msgPreInOurWABA
	msgPreRegistrationsSome
	msgPreRegistrationsOut
	msgPreTemplates
	msgPreTemplatesUnread
	msgPreStoppedUs
	msgPreStoppedWait
	msgBlockedFooterLetter
	msgBtnLetter
	msgLetterAskPhone
	msgLetterIntro
	msgLetterBody
	msgLetterAsk2FA
	msgLetterWhy2FA
	msgLetterAskName
	msgLetterWhyName
	msgPhoneDidYouMean
)

// texts is every message in English, Portuguese (Brazil) and Spanish, in
// that order. WhatsApp renders *bold* and _italics_.
var texts = map[msg][3]string{
	msgWelcome: {
		"Hi! I'm portabot. I help you move your WhatsApp Business number from your current provider (BSP) to us, step by step, right here in the chat.",
		"Olá! Eu sou o portabot. Ajudo você a trazer seu número do WhatsApp Business do seu provedor atual (BSP) para nós, passo a passo, aqui mesmo no chat.",
		"¡Hola! Soy portabot. Te ayudo a traer tu número de WhatsApp Business desde tu proveedor actual (BSP) hasta nosotros, paso a paso, aquí mismo en el chat.",
	},
	msgMenu: {
		"What would you like to do?",
		"O que você gostaria de fazer?",
		"¿Qué te gustaría hacer?",
	},
	msgBtnStart:    {"Start the port", "Portar meu número", "Iniciar portabilidad"},
	msgBtnContinue: {"Continue my port", "Continuar", "Continuar"},
	msgBtnQuestion: {"Ask a question", "Tirar uma dúvida", "Hacer una pregunta"},
	msgBtnPerson:   {"Talk to a person", "Falar com atendente", "Hablar con alguien"},
	msgAskQuestion: {
		"Sure, type your question and I'll answer it.",
		"Claro, escreva sua dúvida que eu respondo.",
		"Claro, escribe tu pregunta y te respondo.",
	},
	msgBtnYes:   {"Yes", "Sim", "Sí"},
	msgBtnNo:    {"No", "Não", "No"},
	msgBtnFixed: {"It's done", "Já resolvi", "Ya está"},
	msgCheckBM: {
		"First, four quick checks (1/4).\n\nDo you have *admin* access to the same Business Manager (business portfolio) where this number was activated with your current provider?",
		"Primeiro, quatro verificações rápidas (1/4).\n\nVocê tem acesso de *administrador* ao mesmo Gerenciador de Negócios (portfólio empresarial) em que o número foi ativado com o seu provedor atual?",
		"Primero, cuatro comprobaciones rápidas (1/4).\n\n¿Tienes acceso de *administrador* al mismo Business Manager (portafolio comercial) donde se activó este número con tu proveedor actual?",
	},
	msgCheck2FA: {
		"Check 2/4: is *two-step verification* (2FA) turned off on the number?",
		"Verificação 2/4: a *verificação em duas etapas* (2FA) está desativada no número?",
		"Comprobación 2/4: ¿está desactivada la *verificación en dos pasos* (2FA) en el número?",
	},
	msgCheckReception: {
		"Check 3/4: can the number receive an *SMS* or an *international voice call*? We need it to get the 6-digit verification code.",
		"Verificação 3/4: o número consegue receber *SMS* ou *ligação internacional*? Precisamos disso para o código de verificação de 6 dígitos.",
		"Comprobación 3/4: ¿el número puede recibir un *SMS* o una *llamada internacional*? La necesitamos para el código de verificación de 6 dígitos.",
	},
	msgCheckDisplayName: {
		"Check 4/4: is the number's *display name approved*, with no name change pending?",
		"Verificação 4/4: o *nome de exibição* do número está *aprovado*, sem nenhuma alteração de nome pendente?",
		"Comprobación 4/4: ¿el *nombre para mostrar* del número está *aprobado*, sin ningún cambio de nombre pendiente?",
	},
	msgBlockedBM: {
		"We need admin access to that Business Manager to create the new account for the number. Your provider only sees the WhatsApp account, never the Business Manager itself, so they cannot recover it, and neither can we directly.\n\nWhat works: ask another admin of that Business Manager to make you an admin, or use Meta's own account recovery. Our team can guide you: type *agent* to talk to a person.",
		"Precisamos de acesso de administrador a esse Gerenciador de Negócios para criar a nova conta do número. O seu provedor só enxerga a conta do WhatsApp, nunca o Gerenciador de Negócios em si, então ele não consegue recuperar o acesso, e nós também não diretamente.\n\nO que funciona: peça a outro administrador desse Gerenciador de Negócios para tornar você administrador, ou use a recuperação de conta da própria Meta. Nossa equipe pode orientar: digite *atendente* para falar com uma pessoa.",
		"Necesitamos acceso de administrador a ese Business Manager para crear la nueva cuenta del número. Tu proveedor solo ve la cuenta de WhatsApp, nunca el Business Manager en sí, así que no puede recuperarlo, y nosotros tampoco directamente.\n\nLo que funciona: pide a otro administrador de ese Business Manager que te haga administrador, o usa la recuperación de cuenta de Meta. Nuestro equipo puede orientarte: escribe *agente* para hablar con una persona.",
	},
	msgBlocked2FA: {
		"Two-step verification must be off before the number can move. Meta has no API for it, so:\n\n• If your current provider manages the WhatsApp account, ask them to turn it off.\n• If you have access to that WhatsApp account: WhatsApp Manager → Account tools → Phone numbers → your number → Two-step verification → Turn off. Meta then e-mails a confirmation link to the business portfolio's address; click it.",
		"A verificação em duas etapas precisa estar desativada para o número mudar. A Meta não oferece API para isso, então:\n\n• Se o seu provedor atual administra a conta do WhatsApp, peça a ele para desativar.\n• Se você tem acesso a essa conta do WhatsApp: Gerenciador do WhatsApp → Ferramentas da conta → Números de telefone → seu número → Verificação em duas etapas → Desativar. A Meta envia um link de confirmação para o e-mail do portfólio empresarial; clique nele.",
		"La verificación en dos pasos debe estar desactivada para que el número pueda moverse. Meta no tiene API para eso, así que:\n\n• Si tu proveedor actual administra la cuenta de WhatsApp, pídele que la desactive.\n• Si tienes acceso a esa cuenta de WhatsApp: Administrador de WhatsApp → Herramientas de la cuenta → Números de teléfono → tu número → Verificación en dos pasos → Desactivar. Meta envía un enlace de confirmación al correo del portafolio comercial; haz clic en él.",
	},
	msgBlockedReception: {
		"The 6-digit code reaches the number by SMS or by an international voice call, so the number must be able to take one of them. Landlines and IVR lines can use the voice call: make sure international calls are allowed and reach a person (or can be forwarded to one).",
		"O código de 6 dígitos chega ao número por SMS ou por ligação internacional, então o número precisa conseguir receber um deles. Fixos e URAs podem usar a ligação: garanta que chamadas internacionais sejam aceitas e cheguem a uma pessoa (ou possam ser transferidas).",
		"El código de 6 dígitos llega al número por SMS o por llamada internacional, así que el número debe poder recibir alguno. Fijos y líneas IVR pueden usar la llamada: asegúrate de que se acepten llamadas internacionales y lleguen a una persona (o puedan desviarse).",
	},
	msgBlockedDisplayName: {
		"The display name must be approved, with no change pending, before the port. Only your *current provider* can get it approved or changed: we cannot touch the name of a number we do not hold yet. Ask them to finish the review, then come back.",
		"O nome de exibição precisa estar aprovado, sem alteração pendente, antes da portabilidade. Só o seu *provedor atual* pode aprovar ou alterar o nome: não conseguimos mexer no nome de um número que ainda não está conosco. Peça a ele para concluir a análise e depois volte.",
		"El nombre para mostrar debe estar aprobado, sin cambios pendientes, antes de la portabilidad. Solo tu *proveedor actual* puede aprobarlo o cambiarlo: no podemos tocar el nombre de un número que aún no tenemos. Pídele que termine la revisión y luego vuelve.",
	},
	msgBlockedFooter: {
		"When it's sorted, send *done* and we'll pick up right here.",
		"Quando estiver resolvido, envie *pronto* e continuamos daqui.",
		"Cuando esté resuelto, envía *listo* y seguimos desde aquí.",
	},
	msgNotFixedYet: {
		"No problem, I'll wait. Send *done* when it's sorted, or *agent* to talk to a person.",
		"Sem problemas, eu aguardo. Envie *pronto* quando resolver, ou *atendente* para falar com uma pessoa.",
		"Sin problema, espero. Envía *listo* cuando esté resuelto, o *agente* para hablar con una persona.",
	},
	msgChecksOK: {
		"All four checks are fine. 🎉",
		"As quatro verificações estão ok. 🎉",
		"Las cuatro comprobaciones están bien. 🎉",
	},
	msgAskPhone: {
		"Which number do you want to move? Type it with the country code, e.g. +55 11 98765-4321.",
		"Qual número você quer trazer? Digite com o código do país, por exemplo +55 11 98765-4321.",
		"¿Qué número quieres traer? Escríbelo con el código de país, por ejemplo +55 11 98765-4321.",
	},
	msgRetryHint: {
		"Send *retry* when you want me to try again.",
		"Envie *tentar de novo* quando quiser que eu tente outra vez.",
		"Envía *reintentar* cuando quieras que lo intente otra vez.",
	},
	msgPhoneInvalid: {
		"That doesn't look like a valid phone number. Please type it with the country code, e.g. +55 11 98765-4321.",
		"Isso não parece um número de telefone válido. Digite com o código do país, por exemplo +55 11 98765-4321.",
		"Eso no parece un número de teléfono válido. Escríbelo con el código de país, por ejemplo +55 11 98765-4321.",
	},
	msgPhoneNeedsCode: {
		"I couldn't read that number for %s. If it's from another country, type it with *+* and the country code, e.g. +1 415 555 0100.",
		"Não reconheci esse número para %s. Se ele for de outro país, digite com *+* e o código do país, por exemplo +1 415 555 0100.",
		"No reconocí ese número para %s. Si es de otro país, escríbelo con *+* y el código de país, por ejemplo +1 415 555 0100.",
	},
	msgPhoneReadLocal: {
		// %s is where: "in the United States", "no Brasil".
		"I read it as a landline %s. If the number is from another country, type it with *+* and the country code, e.g. +1 415 555 0100.",
		"Li como um telefone fixo %s. Se o número for de outro país, digite com *+* e o código do país, por exemplo +1 415 555 0100.",
		"Lo leí como un fijo %s. Si el número es de otro país, escríbelo con *+* y el código de país, por ejemplo +1 415 555 0100.",
	},
	msgPhoneOK: {
		"Got it: %s.",
		"Anotado: %s.",
		"Anotado: %s.",
	},
	msgBrazilNine: {
		"⚠️ Brazilian mobile: the number must match the live WhatsApp profile *exactly*, with or without the extra 9. If the profile shows it differently, send the number again as the profile shows it, or messaging can break after the port.",
		"⚠️ Celular brasileiro: o número precisa ser *exatamente* igual ao do perfil ativo do WhatsApp, com ou sem o 9 extra. Se o perfil mostra diferente, envie de novo do jeito que aparece no perfil, senão as mensagens podem falhar depois da portabilidade.",
		"⚠️ Móvil brasileño: el número debe coincidir *exactamente* con el perfil activo de WhatsApp, con o sin el 9 extra. Si el perfil lo muestra distinto, envíalo de nuevo como aparece en el perfil, o los mensajes pueden fallar tras la portabilidad.",
	},
	msgAskSourceWABA: {
		"Optional: do you know the ID of the WhatsApp Business Account the number is in today? (WhatsApp Manager → Account tools, a long number.) With it we also copy your message templates right away. Send it, or tap *Skip*.",
		"Opcional: você sabe o ID da conta do WhatsApp Business (WABA) em que o número está hoje? (Gerenciador do WhatsApp → Ferramentas da conta, um número longo.) Com ele também copiamos seus modelos de mensagem na hora. Envie, ou toque em *Pular*.",
		"Opcional: ¿conoces el ID de la cuenta de WhatsApp Business (WABA) donde está hoy el número? (Administrador de WhatsApp → Herramientas de la cuenta, un número largo.) Con él también copiamos tus plantillas de mensaje enseguida. Envíalo, o toca *Omitir*.",
	},
	msgBtnSkip: {"Skip", "Pular", "Omitir"},
	msgSourceWABAInvalid: {
		"A WhatsApp Business Account ID is a long number (digits only). Send it again, or tap *Skip*.",
		"O ID da conta do WhatsApp Business é um número longo (só dígitos). Envie de novo, ou toque em *Pular*.",
		"El ID de la cuenta de WhatsApp Business es un número largo (solo dígitos). Envíalo de nuevo, o toca *Omitir*.",
	},
	msgAwaitWABA: {
		"Thanks! One of our agents is finishing the set-up of your new WhatsApp Business Account. I'll carry on as soon as it's ready; you can send any message to check.",
		"Obrigado! Um dos nossos atendentes está finalizando a configuração da sua nova conta do WhatsApp Business. Eu continuo assim que estiver pronta; você pode mandar qualquer mensagem para verificar.",
		"¡Gracias! Uno de nuestros agentes está terminando de configurar tu nueva cuenta de WhatsApp Business. Sigo en cuanto esté lista; puedes enviar cualquier mensaje para comprobar.",
	},
	msgAdding: {
		"The number is now in our account and ready to be verified.",
		"O número já está na nossa conta e pronto para ser verificado.",
		"El número ya está en nuestra cuenta y listo para verificarse.",
	},
	msgChooseMethod: {
		"Meta will send a 6-digit code to %s. How should it arrive?",
		"A Meta vai enviar um código de 6 dígitos para %s. Como ele deve chegar?",
		"Meta enviará un código de 6 dígitos a %s. ¿Cómo debe llegar?",
	},
	msgBtnSMS:   {"SMS", "SMS", "SMS"},
	msgBtnVoice: {"Voice call", "Ligação", "Llamada"},
	msgCodeSentSMS: {
		"Code requested! An SMS is on its way to %s (it can take a few minutes). Type the 6 digits here.",
		"Código solicitado! Um SMS está a caminho de %s (pode levar alguns minutos). Digite os 6 dígitos aqui.",
		"¡Código solicitado! Un SMS va en camino a %s (puede tardar unos minutos). Escribe los 6 dígitos aquí.",
	},
	msgCodeSentVoice: {
		"Code requested! %s will get a voice call with the code (it can take a few minutes). Type the 6 digits here.",
		"Código solicitado! %s vai receber uma ligação com o código (pode levar alguns minutos). Digite os 6 dígitos aqui.",
		"¡Código solicitado! %s recibirá una llamada con el código (puede tardar unos minutos). Escribe los 6 dígitos aquí.",
	},
	msgAwaitCode: {
		"Type the 6-digit code Meta sent to %s. Didn't get it? Tap *Resend* or *Voice call*.",
		"Digite o código de 6 dígitos que a Meta enviou para %s. Não chegou? Toque em *Reenviar* ou *Ligação*.",
		"Escribe el código de 6 dígitos que Meta envió a %s. ¿No llegó? Toca *Reenviar* o *Llamada*.",
	},
	msgBtnResend: {"Resend", "Reenviar", "Reenviar"},
	msgCodeLetters: {
		"The code has only digits: 6 of them, like 123456.",
		"O código tem só números: 6 dígitos, como 123456.",
		"El código tiene solo números: 6 dígitos, como 123456.",
	},
	msgCodeFormat: {
		"The code has exactly 6 digits, like 123456 or 123-456.",
		"O código tem exatamente 6 dígitos, como 123456 ou 123-456.",
		"El código tiene exactamente 6 dígitos, como 123456 o 123-456.",
	},
	msgCooldown: {
		"A code was sent less than a minute ago; codes can take a few minutes. You can ask for a new one in %d seconds.",
		"Um código foi enviado há menos de um minuto; ele pode levar alguns minutos. Você pode pedir outro em %d segundos.",
		"Se envió un código hace menos de un minuto; puede tardar unos minutos. Puedes pedir otro en %d segundos.",
	},
	msgCodeWrong: {
		"That code didn't work (wrong or expired). Check the latest SMS/call and try again: %s. Or tap *Resend*.",
		"Esse código não funcionou (errado ou expirado). Confira o SMS/ligação mais recente e tente de novo: %s. Ou toque em *Reenviar*.",
		"Ese código no funcionó (incorrecto o vencido). Revisa el SMS/llamada más reciente e inténtalo de nuevo: %s. O toca *Reenviar*.",
	},
	msgCodeTooManyWrong: {
		"The code didn't work three times, so I've asked one of our agents to help you. They'll write here shortly.",
		"O código não funcionou três vezes, então chamei um dos nossos atendentes para ajudar. Ele vai escrever aqui em breve.",
		"El código no funcionó tres veces, así que pedí ayuda a uno de nuestros agentes. Te escribirá aquí en breve.",
	},
	msgVerified: {
		"Code confirmed. ✅ The number is verified.",
		"Código confirmado. ✅ O número está verificado.",
		"Código confirmado. ✅ El número está verificado.",
	},
	msgAskPin: {
		"Last step: choose a *new 6-digit PIN* for two-step verification. Registering the number with us sets it. Keep it safe: you'll need it to register the number again later.",
		"Último passo: escolha um *novo PIN de 6 dígitos* para a verificação em duas etapas. Ele é definido ao registrar o número conosco. Guarde bem: você vai precisar dele para registrar o número novamente no futuro.",
		"Último paso: elige un *nuevo PIN de 6 dígitos* para la verificación en dos pasos. Se define al registrar el número con nosotros. Guárdalo bien: lo necesitarás para registrar el número de nuevo más adelante.",
	},
	msgAskPinAgain: {
		"Type the same PIN again to confirm.",
		"Digite o mesmo PIN de novo para confirmar.",
		"Escribe el mismo PIN otra vez para confirmar.",
	},
	msgPinFormat: {
		"The PIN must be exactly 6 digits.",
		"O PIN precisa ter exatamente 6 dígitos.",
		"El PIN debe tener exactamente 6 dígitos.",
	},
	msgPinWeak: {
		"That PIN is too easy to guess (repeated or sequential digits). Please choose another 6-digit PIN.",
		"Esse PIN é fácil demais de adivinhar (dígitos repetidos ou em sequência). Escolha outro PIN de 6 dígitos.",
		"Ese PIN es demasiado fácil de adivinar (dígitos repetidos o en secuencia). Elige otro PIN de 6 dígitos.",
	},
	msgPinMismatch: {
		"The two PINs don't match. Let's start over: type your new 6-digit PIN.",
		"Os dois PINs não conferem. Vamos recomeçar: digite seu novo PIN de 6 dígitos.",
		"Los dos PIN no coinciden. Empecemos de nuevo: escribe tu nuevo PIN de 6 dígitos.",
	},
	msgRegistered: {
		"Registered! 🎉 The number now sends and receives through us.",
		"Registrado! 🎉 O número agora envia e recebe mensagens por aqui.",
		"¡Registrado! 🎉 El número ya envía y recibe mensajes con nosotros.",
	},
	msgDone: {
		"Your number %s has moved. Here's what was kept:\n• Display name: %s\n• Quality rating: %s\n• Messaging limit: %s\n• Official business badge: %s",
		"Seu número %s foi transferido. Veja o que foi mantido:\n• Nome de exibição: %s\n• Classificação de qualidade: %s\n• Limite de mensagens: %s\n• Selo de conta comercial oficial: %s",
		"Tu número %s se ha transferido. Esto es lo que se mantuvo:\n• Nombre para mostrar: %s\n• Calificación de calidad: %s\n• Límite de mensajes: %s\n• Insignia de cuenta oficial: %s",
	},
	msgDoneTemplates: {
		"• Templates copied: %d",
		"• Modelos copiados: %d",
		"• Plantillas copiadas: %d",
	},
	msgDoneTemplatesFailed: {
		"Templates Meta did not copy (re-submit them if you need them):",
		"Modelos que a Meta não copiou (envie de novo se precisar deles):",
		"Plantillas que Meta no copió (vuelve a enviarlas si las necesitas):",
	},
	msgDoneNoSource: {
		"• Templates: Meta copies your approved high-quality templates automatically; they may take a little while to appear.",
		"• Modelos: a Meta copia automaticamente seus modelos aprovados de alta qualidade; eles podem levar um pouco para aparecer.",
		"• Plantillas: Meta copia automáticamente tus plantillas aprobadas de alta calidad; pueden tardar un poco en aparecer.",
	},
	msgDoneFooter: {
		"Template quality ratings restart as unknown for about a day. Chat history does not move. Keep your new PIN safe. Welcome aboard!",
		"As classificações de qualidade dos modelos recomeçam como desconhecidas por cerca de um dia. O histórico de conversas não é transferido. Guarde bem o seu novo PIN. Seja bem-vindo!",
		"Las calificaciones de calidad de las plantillas se reinician como desconocidas durante un día aproximadamente. El historial de chats no se transfiere. Guarda bien tu nuevo PIN. ¡Bienvenido!",
	},
	msgDoneUnchanged: {"unchanged", "sem alteração", "sin cambios"},
	msgDoneNo:        {"no", "não", "no"},
	msgDoneYes:       {"yes", "sim", "sí"},
	msgWaitSecond:    {"1 second", "1 segundo", "1 segundo"},
	msgWaitSeconds:   {"%d seconds", "%d segundos", "%d segundos"},
	msgWaitMinute:    {"1 minute", "1 minuto", "1 minuto"},
	msgWaitMinutes:   {"%d minutes", "%d minutos", "%d minutos"},
	msgTriesLeftOne:  {"%d attempt left", "resta %d tentativa", "queda %d intento"},
	msgTriesLeftMany: {"%d attempts left", "restam %d tentativas", "quedan %d intentos"},
	msgCancelled: {
		"Cancelled. Nothing else will happen with your number. Send *menu* whenever you want to start again.",
		"Cancelado. Nada mais será feito com o seu número. Envie *menu* quando quiser recomeçar.",
		"Cancelado. No se hará nada más con tu número. Envía *menú* cuando quieras empezar de nuevo.",
	},
	msgHandoff: {
		"I've asked one of our agents to join. They'll write here shortly; until then I'll stay quiet.",
		"Chamei um dos nossos atendentes. Ele vai escrever aqui em breve; até lá eu fico em silêncio.",
		"Pedí a uno de nuestros agentes que se una. Te escribirá aquí en breve; hasta entonces me quedo en silencio.",
	},
	msgHandoffCase: {
		"Your case number is #%s.",
		"O número do seu atendimento é #%s.",
		"Tu número de caso es #%s.",
	},
	msgFailed: {
		"Something went wrong on Meta's side that I can't fix from here. Our team has been told and will get back to you; your progress is saved.",
		"Algo deu errado do lado da Meta que eu não consigo resolver daqui. Nossa equipe foi avisada e vai retornar; seu progresso está salvo.",
		"Algo salió mal del lado de Meta que no puedo resolver desde aquí. Nuestro equipo ya fue avisado y te contactará; tu progreso está guardado.",
	},
	msgFailedRetry: {
		"Our team is looking into your case. You can still ask me questions, or type *agent* to talk to a person.",
		"Nossa equipe está analisando o seu caso. Você ainda pode me fazer perguntas, ou digitar *atendente* para falar com uma pessoa.",
		"Nuestro equipo está revisando tu caso. Aún puedes hacerme preguntas, o escribir *agente* para hablar con una persona.",
	},
	msgRetryLater: {
		"Meta isn't answering right now. Nothing is lost: try again in a few minutes.",
		"A Meta não está respondendo agora. Nada foi perdido: tente de novo em alguns minutos.",
		"Meta no responde en este momento. No se perdió nada: inténtalo de nuevo en unos minutos.",
	},
	msgRetryLaterIn: {
		"Meta asked us to slow down. Nothing is lost: try again in %s.",
		"A Meta pediu para aguardarmos. Nada foi perdido: tente de novo em %s.",
		"Meta nos pidió esperar. No se perdió nada: inténtalo de nuevo en %s.",
	},
	msgTwoFAStillOn: {
		"Meta says two-step verification is still *on* for this number, so it can't move yet.",
		"A Meta informa que a verificação em duas etapas ainda está *ativada* neste número, então ele ainda não pode mudar.",
		"Meta indica que la verificación en dos pasos sigue *activada* en este número, así que aún no puede moverse.",
	},
	msgAgentJoined: {
		"A person from our team has joined this chat and will help you from here.",
		"Uma pessoa da nossa equipe entrou nesta conversa e vai ajudar você a partir de agora.",
		"Una persona de nuestro equipo se unió a este chat y te ayudará desde aquí.",
	},
	msgAgentLeft: {
		"Our team member has handed the chat back to me. Let's carry on where we were.",
		"Nossa equipe devolveu a conversa para mim. Vamos continuar de onde paramos.",
		"Nuestro equipo me devolvió el chat. Sigamos donde estábamos.",
	},
	msgSlowDown: {
		"You're sending messages faster than I can read them. Please wait a moment: I'll answer each one in turn.",
		"Você está enviando mensagens mais rápido do que consigo ler. Aguarde um instante: vou responder cada uma na ordem.",
		"Estás enviando mensajes más rápido de lo que puedo leerlos. Espera un momento: responderé cada uno en orden.",
	},
	msgTwoFAOff: {
		"Meta reports a change to the number's two-step verification. Let me try again…",
		"A Meta informou uma mudança na verificação em duas etapas do número. Vou tentar de novo…",
		"Meta informa un cambio en la verificación en dos pasos del número. Lo intento de nuevo…",
	},
	msgDisplayNamePending: {
		"Meta says the display name is not approved yet or has a change pending.",
		"A Meta informa que o nome de exibição ainda não foi aprovado ou tem uma alteração pendente.",
		"Meta indica que el nombre para mostrar aún no está aprobado o tiene un cambio pendiente.",
	},
	msgAlreadyOnWABA: {
		"This number is already in our WhatsApp Business Account, so there is nothing to move into it. One of our agents will check the details with you.",
		"Este número já está na nossa conta do WhatsApp Business, então não há o que transferir. Um dos nossos atendentes vai conferir os detalhes com você.",
		"Este número ya está en nuestra cuenta de WhatsApp Business, así que no hay nada que mover. Uno de nuestros agentes revisará los detalles contigo.",
	},
	msgNoWebhooks: {
		"Our new account for your number isn't fully set up on Meta's side yet. That's on us: our team has been told and will continue with you.",
		"Nossa nova conta para o seu número ainda não está totalmente configurada na Meta. Isso é com a gente: nossa equipe foi avisada e vai continuar com você.",
		"Nuestra nueva cuenta para tu número aún no está completamente configurada en Meta. Eso nos toca a nosotros: nuestro equipo ya fue avisado y seguirá contigo.",
	},
	msgOtherPortfolio: {
		"Meta says the account we prepared for your number belongs to a different business portfolio than the one your number is in today. Both must be the same business. Our team has been told and will check with you which business portfolio the number belongs to.",
		"A Meta informa que a conta que preparamos para o seu número pertence a um portfólio empresarial diferente daquele em que o número está hoje. Os dois precisam ser da mesma empresa. Nossa equipe foi avisada e vai confirmar com você a qual portfólio empresarial o número pertence.",
		"Meta indica que la cuenta que preparamos para tu número pertenece a un portafolio comercial distinto del que tiene el número hoy. Ambos deben ser de la misma empresa. Nuestro equipo ya fue avisado y confirmará contigo a qué portafolio comercial pertenece el número.",
	},
	msgMessagingFor: {
		"Meta is waiting for you to accept our *\"Messaging For\"* request. In Meta Business Suite, open the notification or *Settings → Requests*, and accept it. Our team has been told and will carry on once it is accepted; your progress is saved.",
		"A Meta está aguardando você aceitar a nossa solicitação *\"Messaging For\"* (mensagens em nome de). No Meta Business Suite, abra a notificação ou *Configurações → Solicitações* e aceite. Nossa equipe foi avisada e vai continuar assim que for aceita; seu progresso está salvo.",
		"Meta está esperando que aceptes nuestra solicitud *\"Messaging For\"* (mensajes en nombre de). En Meta Business Suite, abre la notificación o *Configuración → Solicitudes* y acéptala. Nuestro equipo ya fue avisado y seguirá en cuanto esté aceptada; tu progreso está guardado.",
	},
	msgAddDirectly: {
		"Meta says your number doesn't need to be moved: it can be added to our account directly. Our team has been told and will do that with you.",
		"A Meta informa que o seu número não precisa ser transferido: ele pode ser adicionado diretamente à nossa conta. Nossa equipe foi avisada e vai fazer isso com você.",
		"Meta indica que tu número no necesita moverse: se puede agregar directamente a nuestra cuenta. Nuestro equipo ya fue avisado y lo hará contigo.",
	},
	msgSourceNotSetUp: {
		"Meta says the account your number is on today is not set up in a way that lets it move yet. Our team has been told and will sort it out with your current provider and Meta; your progress is saved.",
		"A Meta informa que a conta em que o seu número está hoje ainda não está configurada de um jeito que permita a transferência. Nossa equipe foi avisada e vai resolver com o seu provedor atual e com a Meta; seu progresso está salvo.",
		"Meta indica que la cuenta donde está tu número hoy aún no está configurada de forma que permita moverlo. Nuestro equipo ya fue avisado y lo resolverá con tu proveedor actual y con Meta; tu progreso está guardado.",
	},
	msgRegisterLimit: {
		"Meta has blocked registration for this number for up to 72 hours (too many attempts: the limit is 10 in 72 hours). Our team has been told and will finish the port with you once the block ends.",
		"A Meta bloqueou o registro deste número por até 72 horas (tentativas demais: o limite é 10 em 72 horas). Nossa equipe foi avisada e vai concluir a portabilidade com você quando o bloqueio acabar.",
		"Meta bloqueó el registro de este número por hasta 72 horas (demasiados intentos: el límite es 10 en 72 horas). Nuestro equipo ya fue avisado y terminará la portabilidad contigo cuando acabe el bloqueo.",
	},
	msgPinRejected: {
		"Meta did not accept that PIN for the number.",
		"A Meta não aceitou esse PIN para o número.",
		"Meta no aceptó ese PIN para el número.",
	},
	msgHelp: {
		"I understand these words at any time:\n• *menu*: main menu\n• *cancel*: stop the port\n• *agent*: talk to a person\n• *language*: change language\n• *help*: this message\nYou can also just ask me a question.",
		"Eu entendo estas palavras a qualquer momento:\n• *menu*: menu principal\n• *cancelar*: parar a portabilidade\n• *atendente*: falar com uma pessoa\n• *idioma*: mudar o idioma\n• *ajuda*: esta mensagem\nVocê também pode simplesmente me fazer uma pergunta.",
		"Entiendo estas palabras en cualquier momento:\n• *menú*: menú principal\n• *cancelar*: detener la portabilidad\n• *agente*: hablar con una persona\n• *idioma*: cambiar el idioma\n• *ayuda*: este mensaje\nTambién puedes simplemente hacerme una pregunta.",
	},
	msgChooseLang: {
		"Which language do you prefer?",
		"Qual idioma você prefere?",
		"¿Qué idioma prefieres?",
	},
	msgLangSet: {
		"Okay, English it is.",
		"Certo, vamos falar em português.",
		"De acuerdo, seguimos en español.",
	},
	msgTextOnly: {
		"I can read text and buttons only.",
		"Eu só consigo ler texto e botões.",
		"Solo puedo leer texto y botones.",
	},
	msgEmpty: {
		"I didn't get any text there.",
		"Não recebi nenhum texto aí.",
		"No recibí ningún texto.",
	},
	msgTooLong: {
		"That message is very long; I read only its first part.",
		"Essa mensagem é muito longa; li só a primeira parte.",
		"Ese mensaje es muy largo; leí solo la primera parte.",
	},
	msgStaleButton: {
		"That button is from an earlier step.",
		"Esse botão é de uma etapa anterior.",
		"Ese botón es de un paso anterior.",
	},
	msgNotUnderstood: {
		"Sorry, I didn't understand that. Is it about one of these?",
		"Desculpe, não entendi. É sobre algum destes assuntos?",
		"Perdón, no entendí. ¿Es sobre alguno de estos temas?",
	},
	msgNotUnderstoodPerson: {
		"I still didn't get it, sorry. Would you like to talk to a person? Or pick a topic:",
		"Ainda não entendi, desculpe. Quer falar com uma pessoa? Ou escolha um assunto:",
		"Sigo sin entender, perdón. ¿Quieres hablar con una persona? O elige un tema:",
	},
	msgBackTo: {
		"Back to where we were:",
		"Voltando para onde estávamos:",
		"Volvamos a donde estábamos:",
	},
	msgYesNo: {
		"Please answer with the buttons, *yes* or *no*.",
		"Responda pelos botões, *sim* ou *não*.",
		"Responde con los botones, *sí* o *no*.",
	},
	msgResumeAfterCrashCode: {
		"We were interrupted while asking Meta for your code. If a code has arrived, type it; if not, tap *Resend*.",
		"Fomos interrompidos enquanto pedíamos o seu código à Meta. Se um código chegou, digite-o; se não, toque em *Reenviar*.",
		"Nos interrumpieron mientras pedíamos tu código a Meta. Si llegó un código, escríbelo; si no, toca *Reenviar*.",
	},
	msgCodeMaybeSent: {
		"Meta didn't confirm your code request, but the code may be on its way to %s. If it arrives, type the 6 digits here; if nothing comes in a few minutes, tap *Resend*.",
		"A Meta não confirmou o pedido do código, mas ele pode estar a caminho de %s. Se chegar, digite os 6 dígitos aqui; se nada chegar em alguns minutos, toque em *Reenviar*.",
		"Meta no confirmó la solicitud del código, pero puede que vaya en camino a %s. Si llega, escribe los 6 dígitos aquí; si no llega nada en unos minutos, toca *Reenviar*.",
	},
	msgResumeAfterCrashPin: {
		"We were interrupted while registering the number, and for your safety I never keep your PIN.",
		"Fomos interrompidos enquanto registrávamos o número e, por segurança, eu nunca guardo o seu PIN.",
		"Nos interrumpieron mientras registrábamos el número y, por seguridad, nunca guardo tu PIN.",
	},
	msgVerifyAgain: {
		"We were interrupted while checking your code, and I never keep codes. Please type it again.",
		"Fomos interrompidos enquanto conferíamos o seu código, e eu nunca guardo códigos. Digite-o de novo, por favor.",
		"Nos interrumpieron mientras revisábamos tu código, y nunca guardo códigos. Escríbelo de nuevo, por favor.",
	},
	msgCaseDone: {
		"Your number has already moved to us. Anything else? Ask me a question, or send *menu*.",
		"Seu número já foi transferido para nós. Mais alguma coisa? Faça uma pergunta ou envie *menu*.",
		"Tu número ya se transfirió con nosotros. ¿Algo más? Hazme una pregunta o envía *menú*.",
	},
	msgCaseClosedMenu: {
		"This port was cancelled. Send *menu* to start again.",
		"Esta portabilidade foi cancelada. Envie *menu* para recomeçar.",
		"Esta portabilidad fue cancelada. Envía *menú* para empezar de nuevo.",
	},
	msgBye: {
		"Alright! Write to me any time you want to move your number or have a question.",
		"Tudo bem! Me escreva quando quiser mover o seu número ou tirar uma dúvida.",
		"¡De acuerdo! Escríbeme cuando quieras mover tu número o hacer una pregunta.",
	},
	msgByePort: {
		"Alright. Nothing is lost: your port stays where it is, and you can write to me any time to carry on. To stop the port itself, type *cancel*.",
		"Tudo bem. Nada se perde: a sua portabilidade fica onde está, e você pode me escrever quando quiser para continuar. Para parar a portabilidade, digite *cancelar*.",
		"De acuerdo. No se pierde nada: tu portabilidad queda donde está y puedes escribirme cuando quieras para seguir. Para detener la portabilidad, escribe *cancelar*.",
	},
	msgThanks: {
		"You're welcome!",
		"Por nada!",
		"¡De nada!",
	},
	msgAbout: {
		"I'm portabot, an automated assistant: I move WhatsApp Business numbers from other providers to us, and answer questions about it. A person from our team is always one message away: type *agent*.",
		"Eu sou o portabot, um assistente automático: trago números do WhatsApp Business de outros provedores para nós e tiro dúvidas sobre isso. Uma pessoa da nossa equipe está sempre a uma mensagem de distância: digite *atendente*.",
		"Soy portabot, un asistente automático: traigo números de WhatsApp Business de otros proveedores hasta nosotros y respondo dudas sobre eso. Una persona de nuestro equipo está siempre a un mensaje de distancia: escribe *agente*.",
	},
	msgNothingToCancel: {
		"There's no port under way, so there's nothing to cancel.",
		"Não há nenhuma portabilidade em andamento, então não há nada para cancelar.",
		"No hay ninguna portabilidad en curso, así que no hay nada que cancelar.",
	},
	msgSignupLink: {
		"Next, your own WhatsApp Business Account, which will receive the number. Open this link and log in with Facebook: Meta's form creates the account in your business portfolio and shares it with us (2 minutes):\n%s\n\nThe link works once, for 24 hours. Write *link* for a new one.",
		"Agora, a sua própria conta do WhatsApp Business, que vai receber o número. Abra este link e entre com o Facebook: o formulário da Meta cria a conta no seu portfólio empresarial e a compartilha conosco (2 minutos):\n%s\n\nO link vale uma vez, por 24 horas. Escreva *link* para receber outro.",
		"Ahora, tu propia cuenta de WhatsApp Business, que recibirá el número. Abre este enlace e inicia sesión con Facebook: el formulario de Meta crea la cuenta en tu portafolio comercial y la comparte con nosotros (2 minutos):\n%s\n\nEl enlace sirve una vez, durante 24 horas. Escribe *enlace* para recibir otro.",
	},
	msgSignupWaiting: {
		"I'm waiting for you to finish Meta's form at the link I sent. Write *link* if you need a new one.",
		"Estou esperando você concluir o formulário da Meta no link que enviei. Escreva *link* se precisar de outro.",
		"Espero a que termines el formulario de Meta en el enlace que te envié. Escribe *enlace* si necesitas otro.",
	},
	msgSignupExpired: {
		"Your link had expired, so here is a new one.",
		"O seu link tinha expirado, então aqui está um novo.",
		"Tu enlace había caducado, así que aquí tienes uno nuevo.",
	},
	msgSignupCancelled: {
		"Meta's form was closed at the step \"%s\", so your account is not shared yet. Nothing is lost: try again whenever you're ready.",
		"O formulário da Meta foi fechado na etapa \"%s\", então a sua conta ainda não foi compartilhada. Nada se perdeu: tente de novo quando quiser.",
		"El formulario de Meta se cerró en el paso \"%s\", así que tu cuenta aún no está compartida. No se perdió nada: inténtalo de nuevo cuando quieras.",
	},
	msgSignupError: {
		"Meta's form reported an error, so your account is not shared yet. Our team was told; you can try again.",
		"O formulário da Meta informou um erro, então a sua conta ainda não foi compartilhada. Nossa equipe foi avisada; você pode tentar de novo.",
		"El formulario de Meta informó un error, así que tu cuenta aún no está compartida. Nuestro equipo fue avisado; puedes intentarlo de nuevo.",
	},
	msgSignupExchangeFailed: {
		"You finished Meta's form, but we could not confirm the account with Meta (we tried several times). Please open the new link and finish the form once more; our team was told.",
		"Você concluiu o formulário da Meta, mas não conseguimos confirmar a conta com a Meta (tentamos várias vezes). Abra o novo link e conclua o formulário mais uma vez; nossa equipe foi avisada.",
		"Terminaste el formulario de Meta, pero no pudimos confirmar la cuenta con Meta (lo intentamos varias veces). Abre el nuevo enlace y termina el formulario una vez más; nuestro equipo fue avisado.",
	},
	msgSignupSubscribeFailed: {
		"We received your account, but Meta refused to connect it to our service. A person from our team will fix it and I'll carry on from here; you don't need to do anything.",
		"Recebemos a sua conta, mas a Meta recusou conectá-la ao nosso serviço. Uma pessoa da nossa equipe vai resolver e eu continuo daqui; você não precisa fazer nada.",
		"Recibimos tu cuenta, pero Meta rechazó conectarla a nuestro servicio. Una persona de nuestro equipo lo resolverá y sigo desde aquí; no necesitas hacer nada.",
	},
	msgSignupReady: {
		"Your WhatsApp Business Account is ready. Next comes the number: I'm adding it now, then we'll verify it with a code.",
		"A sua conta do WhatsApp Business está pronta. Agora vem o número: estou adicionando agora, e depois vamos verificá-lo com um código.",
		"Tu cuenta de WhatsApp Business está lista. Ahora sigue el número: lo estoy agregando, y luego lo verificaremos con un código.",
	},
	msgStepUnknown: {"not given", "não informada", "no indicado"},
}

// render returns m in lang with fmt arguments.
func render(lang Lang, m msg, args ...any) string {
	i := 0
	switch lang {
	case Portuguese:
		i = 1
	case Spanish:
		i = 2
	}
	s := texts[m][i]
	if len(args) > 0 {
		s = fmt.Sprintf(s, args...)
	}
	return s
}
