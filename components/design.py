"""Design constants: colours and class strings, in one place."""

BRAND = '#2563eb'
PAGE = 'w-full max-w-3xl mx-auto p-4 gap-4'
CARD = 'w-full p-6 gap-3 rounded-xl shadow-sm'
HEADLINE = 'text-3xl font-semibold text-slate-900'
SUBTLE = 'text-slate-600'
CODE = 'font-mono text-sm bg-slate-100 text-slate-900 rounded px-2 py-1 select-all'
