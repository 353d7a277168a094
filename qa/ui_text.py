"""The web page's own words in each language: one dict per language, the same keys in each.

app.py hands TEXT to Gradio's I18n, and the browser picks the language (English when it asks for one that is
not here). To add a language, add a dict with every key of EN and its example questions to EXAMPLES.
The answers themselves (qa/render.py) and Gradio's own words (its buttons, "Drop File Here") are not here.
"""

from __future__ import annotations

from qa.documents import MAX_FILE_BYTES, SUFFIXES

_SUFFIXES, _MEGABYTES = ", ".join(SUFFIXES), MAX_FILE_BYTES // 1_000_000

EN = {
    "title": "EU–Japan Digital Partnership — ask the documents",
    "description": ("Answers are sentences quoted from the EU–Japan Digital Partnership documents, each with a "
                    "numbered source you can open in place; when nothing in them answers, it says so."),
    "answers": "Answers",
    "question": "Ask about the EU–Japan Digital Partnership…",
    "examples": "Examples",
    "filters": "### Filters",
    "since": "From",
    "since_example": "e.g. 2024 or 2024-05-01",
    "until": "Until",
    "until_example": "e.g. 2025-06",
    "publishers": "Publishers",
    "documents": "Documents",
    "rating_help": ("Rate the answer or each source with the thumbs under it (rating the answer rates the sources "
                    "it cites): ratings go to a file that `qa eval` turns into regression questions."),
    "documents_help": (f"## Documents\nAdd {_SUFFIXES} files (up to {_MEGABYTES} MB each), or a web page by its "
                       "address (cited by that address): they are indexed at once and can be asked about right away. "
                       "Adding and removing needs the admin password."),
    "add_documents": "Add documents",
    "add": "Add and index",
    "address": "Web address",
    "add_address": "Add a web page by its address",
    "doomed": "Document to remove",
    "remove": "Remove and re-index",
    "status": "Status",
    "admin_password": "Admin password",
    "writes_off": ("Adding and removing documents is turned off on this server: nobody can change them from this "
                   "page. To turn it on, set QA_ADMIN_PASSWORD (12 characters or more) where the server runs and "
                   "restart it, or add the files to the corpus folder there and run `qa index`."),
    "wrong_password": ("The admin password is missing or wrong: nothing was changed. Adding and removing documents "
                       "needs the password set in QA_ADMIN_PASSWORD on the server."),
    "no_files": "Choose one or more files first.",
    "no_address": "Type the web page's address first (https://…).",
    "no_document": "Choose a document to remove first.",
    "removed": "Removed",  # followed by " <file>."
    "not_in_index": "This document is not in the index (it may have been removed). Ask again in the chat.",
}

JA = {
    "title": "日EUデジタルパートナーシップ — 文書に質問する",
    "description": ("回答は日EUデジタルパートナーシップの文書から引用した文で、それぞれに番号付きの出典があり、"
                    "文書の該当箇所を開いて確かめられます。文書に答えが見つからないときは、そう伝えます。"),
    "answers": "回答",
    "question": "日EUデジタルパートナーシップについて質問してください…",
    "examples": "質問の例",
    "filters": "### 絞り込み",
    "since": "開始日",
    "since_example": "例: 2024 または 2024-05-01",
    "until": "終了日",
    "until_example": "例: 2025-06",
    "publishers": "発行元",
    "documents": "文書",
    "rating_help": ("回答や各出典は、その下の親指ボタンで評価できます（回答を評価すると、回答が引用している出典が"
                    "評価されます）。評価はファイルに保存され、`qa eval` が回帰テスト用の質問に変換します。"),
    "documents_help": (f"## 文書\n{_SUFFIXES} 形式のファイル（1ファイル最大 {_MEGABYTES} MB）か、アドレスを指定して"
                       "ウェブページを追加できます（出典にはそのアドレスが示されます）。"
                       "追加した文書はすぐに索引に登録され、そのまま質問できます。追加と削除には管理者パスワードが必要です。"),
    "add_documents": "文書を追加",
    "add": "追加して索引に登録",
    "address": "ウェブページのアドレス",
    "add_address": "ウェブページをアドレスで追加",
    "doomed": "削除する文書",
    "remove": "削除して索引を再構築",
    "status": "状態",
    "admin_password": "管理者パスワード",
    "writes_off": ("このサーバーでは文書の追加と削除が無効になっています。このページからは誰も文書を変更できません。"
                   "有効にするには、サーバーの環境変数 QA_ADMIN_PASSWORD（12文字以上）を設定して再起動してください。"
                   "または、サーバーの corpus フォルダーにファイルを置いて `qa index` を実行してください。"),
    "wrong_password": ("管理者パスワードが入力されていないか、違います。何も変更されていません。文書の追加と削除には、"
                       "サーバーの QA_ADMIN_PASSWORD に設定されたパスワードが必要です。"),
    "no_files": "先にファイルを1つ以上選んでください。",
    "no_address": "先にウェブページのアドレス（https://…）を入力してください。",
    "no_document": "先に削除する文書を選んでください。",
    "removed": "削除しました:",
    "not_in_index": "この文書は索引にありません（削除された可能性があります）。チャットでもう一度質問してください。",
}

TEXT = {"en": EN, "ja": JA}
for _words in TEXT.values():  # the page's heading is one Markdown, and Gradio translates one key in a string
    _words["intro"] = f"# {_words['title']}\n{_words['description']}"

# Questions the bundled documents answer, shown under the chat in the page's language.
EXAMPLES = {
    "en": [
        "Who co-chaired the third Digital Partnership Council?",
        "Who leads the 6G MIRAI-HARMONY project?",
        "How has cooperation on semiconductors evolved?",
        "What was agreed on submarine cables?",
    ],
    "ja": [
        "第3回日EUデジタルパートナーシップ協議会の共同議長は誰でしたか？",
        "6GのMIRAI-HARMONYプロジェクトを率いているのは誰ですか？",
        "2022年の日EU首脳協議で何が合意されましたか？",
        "半導体分野の協力はどのように進展してきましたか？",
    ],
}
