package bot

import "maps"

// talkTexts are what the bot says to small talk, doubt and requests made in
// the client's own words; kept apart from the step texts, which are read
// in order of the flow.
var talkTexts = map[msg][3]string{
	msgGreetingBack: {
		"Hello again!",
		"Olá de novo!",
		"¡Hola de nuevo!",
	},
	msgUnsureBM: {
		"No problem. Open business.facebook.com with the Facebook account you use for the business: if you see the business portfolio (Business Manager) where WhatsApp was set up, and under *Settings → People* your name shows *Full control* (admin), the answer is yes. If you can't get in, your current provider can tell you which portfolio holds the number, but only the portfolio's admins can add you.",
		"Sem problema. Abra business.facebook.com com a conta do Facebook que você usa na empresa: se aparecer o Gerenciador de Negócios (portfólio empresarial) em que o WhatsApp foi configurado e, em *Configurações → Pessoas*, o seu nome tiver *Controle total* (administrador), a resposta é sim. Se não conseguir entrar, o seu provedor atual pode dizer em qual portfólio está o número, mas só os administradores do portfólio podem adicionar você.",
		"No hay problema. Abre business.facebook.com con la cuenta de Facebook que usas en la empresa: si ves el Business Manager (portafolio comercial) donde se configuró WhatsApp y, en *Configuración → Personas*, tu nombre tiene *Control total* (administrador), la respuesta es sí. Si no puedes entrar, tu proveedor actual puede decirte qué portafolio tiene el número, pero solo sus administradores pueden añadirte.",
	},
	msgUnsure2FA: {
		"No problem: ask your current provider (BSP) whether two-step verification is on for the number, and to turn it off; if you have access to the WhatsApp account, you can see it in WhatsApp Manager under *Phone numbers → Settings → Two-step verification*.",
		"Sem problema: pergunte ao seu provedor atual (BSP) se a verificação em duas etapas está ativada no número e peça para desativá-la; se você tiver acesso à conta do WhatsApp, dá para ver no Gerenciador do WhatsApp em *Números de telefone → Configurações → Verificação em duas etapas*.",
		"No hay problema: pregunta a tu proveedor actual (BSP) si la verificación en dos pasos está activada en el número y pídele que la desactive; si tienes acceso a la cuenta de WhatsApp, puedes verlo en el Administrador de WhatsApp en *Números de teléfono → Configuración → Verificación en dos pasos*.",
	},
	msgUnsureReception: {
		"No problem: a mobile line receives SMS; a landline or a number behind a menu (IVR) usually can't, but can take a voice call, which is also an option. If someone can answer calls or read texts on the number, the answer is yes.",
		"Sem problema: uma linha celular recebe SMS; um fixo ou um número com menu de atendimento (URA) normalmente não recebe, mas pode receber uma ligação, que também é uma opção. Se alguém consegue atender ligações ou ler mensagens nesse número, a resposta é sim.",
		"No hay problema: una línea móvil recibe SMS; un fijo o un número con menú de atención (IVR) normalmente no, pero puede recibir una llamada, que también es una opción. Si alguien puede contestar llamadas o leer mensajes en ese número, la respuesta es sí.",
	},
	msgUnsureDisplayName: {
		"No problem: in WhatsApp Manager, under *Phone numbers*, the display name shows as *Approved*; your current provider can also tell you, and whether a name change is pending.",
		"Sem problema: no Gerenciador do WhatsApp, em *Números de telefone*, o nome de exibição aparece como *Aprovado*; o seu provedor atual também pode dizer, e se há alguma alteração de nome pendente.",
		"No hay problema: en el Administrador de WhatsApp, en *Números de teléfono*, el nombre para mostrar aparece como *Aprobado*; tu proveedor actual también puede decírtelo, y si hay algún cambio de nombre pendiente.",
	},
	msgHandoffWaiting: {
		"One of our agents will answer you here. If you'd rather carry on with me, write *menu*.",
		"Um dos nossos atendentes vai responder aqui. Se preferir continuar comigo, escreva *menu*.",
		"Uno de nuestros agentes te responderá aquí. Si prefieres seguir conmigo, escribe *menú*.",
	},
	msgHandoffLeft: {
		"OK, I'm back with you.",
		"Certo, estou de volta com você.",
		"Bien, vuelvo a estar contigo.",
	},
	msgNoAgentHere: {
		"No agent can join this chat, so I'll keep helping you here.",
		"Nenhum atendente pode entrar nesta conversa, então eu continuo ajudando você aqui.",
		"Ningún agente puede unirse a esta conversación, así que sigo ayudándote aquí.",
	},
	msgPhoneWhich: {
		"Which number is it: %s %s, or %s %s? Tap it, or type it with *+* and the country code.",
		"Qual é o número: %s %s, ou %s %s? Toque nele, ou digite com *+* e o código do país.",
		"¿Cuál es el número: %s %s, o %s %s? Tócalo, o escríbelo con *+* y el código de país.",
	},
	msgPhoneDidYouMean: {
		"Did you mean %s %s? Tap it, or type the number with *+* and the country code.",
		"Você quis dizer %s %s? Toque nele, ou digite o número com *+* e o código do país.",
		"¿Quisiste decir %s %s? Tócalo, o escribe el número con *+* y el código de país.",
	},
	msgAlsoAsked: {
		"You also asked about this; tap to read it:",
		"Você também perguntou sobre isto; toque para ler:",
		"También preguntaste sobre esto; toca para leerlo:",
	},
}

func init() { maps.Copy(texts, talkTexts) }
