<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AskBox</name>
    <message>
        <source>The CPU engine reads text; it cannot answer questions about an image. Choose the local InternVL3 or a remote server in the engine panel to ask.</source>
        <translation>CPU 引擎只识别文字，无法回答关于图像的问题。要提问，请在引擎面板中选择本地 InternVL3 或远程服务器。</translation>
    </message>
    <message>
        <source>Questions and answers</source>
        <translation>问答</translation>
    </message>
    <message>
        <source>Ask about</source>
        <translation>提问对象</translation>
    </message>
    <message>
        <source>Which result the question is about</source>
        <translation>问题针对哪个结果</translation>
    </message>
    <message>
        <source>Ask about this image, e.g. “What is the total?”</source>
        <translation>就这张图像提问，例如“总金额是多少？”</translation>
    </message>
    <message>
        <source>Question about the image</source>
        <translation>关于图像的问题</translation>
    </message>
    <message>
        <source>Ask</source>
        <translation>提问</translation>
    </message>
    <message>
        <source>Ask the vision-language engine about this image; the answer is kept with the result</source>
        <translation>向视觉语言引擎询问这张图像；回答会与结果一起保存</translation>
    </message>
    <message>
        <source>Whole page</source>
        <translation>整页</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop the answer (Esc)</source>
        <translation>停止回答（Esc）</translation>
    </message>
    <message>
        <source>Questions can be asked once the recognition has finished</source>
        <translation>识别完成后即可提问</translation>
    </message>
    <message>
        <source>The answer was not kept in History: {error}</source>
        <translation>回答未能保存到历史记录：{error}</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
</context>
<context>
    <name>BatchBar</name>
    <message>
        <source>Progress</source>
        <translation>进度</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Stop; the pages already recognised are kept (Esc)</source>
        <translation>停止；已识别的页面会保留（Esc）</translation>
    </message>
</context>
<context>
    <name>BatchPanel</name>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Pages</source>
        <translation>页数</translation>
    </message>
    <message>
        <source>queued</source>
        <translation>排队中</translation>
    </message>
    <message>
        <source>running</source>
        <translation>识别中</translation>
    </message>
    <message>
        <source>done</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>estimating…</source>
        <translation>正在估算…</translation>
    </message>
    <message>
        <source>{n} s</source>
        <translation>{n} 秒</translation>
    </message>
    <message>
        <source>{m}:{s} min</source>
        <translation>{m}:{s} 分钟</translation>
    </message>
    <message>
        <source>{h}:{m} h</source>
        <translation>{h}:{m} 小时</translation>
    </message>
    <message>
        <source>done, {n} failed</source>
        <translation>完成，{n} 处失败</translation>
    </message>
    <message>
        <source>Batch</source>
        <translation>批量识别</translation>
    </message>
    <message>
        <source>No batch yet. Drop several files or a folder on the window.</source>
        <translation>还没有批量任务。把多个文件或一个文件夹拖到窗口上即可开始。</translation>
    </message>
    <message>
        <source>Batch progress</source>
        <translation>批量进度</translation>
    </message>
    <message>
        <source>Batch files</source>
        <translation>批量文件</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Start no new page; the ones running finish</source>
        <translation>不再开始新的页面；正在识别的会完成</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Stop; what finished is kept (Esc)</source>
        <translation>停止；已完成的会保留（Esc）</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>One file (a workbook, a searchable PDF…)…</source>
        <translation>单个文件（工作簿、可搜索 PDF…）…</translation>
    </message>
    <message>
        <source>One file per input, into a folder…</source>
        <translation>每个输入一个文件，存入文件夹…</translation>
    </message>
    <message>
        <source>1 file queued…</source>
        <translation>1 个文件排队中…</translation>
    </message>
    <message>
        <source>{n} files queued…</source>
        <translation>{n} 个文件排队中…</translation>
    </message>
    <message>
        <source> (+{n} files to open)</source>
        <translation>（另有 {n} 个文件待打开）</translation>
    </message>
    <message>
        <source>{eta} left</source>
        <translation>剩余 {eta}</translation>
    </message>
    <message>
        <source>{n} reused</source>
        <translation>复用 {n} 项</translation>
    </message>
    <message>
        <source>{done} / {total} files · {pages_done} / {pages_total} pages</source>
        <translation>{done} / {total} 个文件 · {pages_done} / {pages_total} 页</translation>
    </message>
    <message>
        <source>Cancelled after {s} s: {done} of {total} files done; what finished is kept.</source>
        <translation>{s} 秒后已取消：{total} 个文件中完成了 {done} 个，已完成的会保留。</translation>
    </message>
    <message>
        <source>Stopped: {why}</source>
        <translation>已停止：{why}</translation>
    </message>
    <message>
        <source>Done: {n} files in {s} s.</source>
        <translation>完成：{n} 个文件，用时 {s} 秒。</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source> · paused</source>
        <translation> · 已暂停</translation>
    </message>
    <message>
        <source>Export the batch</source>
        <translation>导出批量结果</translation>
    </message>
    <message>
        <source>Export one file per input into</source>
        <translation>每个输入导出一个文件，保存到</translation>
    </message>
    <message>
        <source>Exported the batch to 1 file: {where}</source>
        <translation>批量结果已导出为 1 个文件：{where}</translation>
    </message>
    <message>
        <source>Exported the batch to {n} files: {where}</source>
        <translation>批量结果已导出为 {n} 个文件：{where}</translation>
    </message>
</context>
<context>
    <name>Capture</name>
    <message>
        <source>No way to read the clipboard was found on this system.</source>
        <translation>在这台电脑上找不到读取剪贴板的方法。</translation>
    </message>
    <message>
        <source>The text could not be put on the clipboard ({why}).</source>
        <translation>无法将文字放到剪贴板上（{why}）。</translation>
    </message>
    <message>
        <source>The text could not be put on the clipboard.</source>
        <translation>无法将文字放到剪贴板上。</translation>
    </message>
    <message>
        <source>The clipboard holds no image. Copy a screenshot or an image file first (Print Screen, or Copy in an image viewer or file manager).</source>
        <translation>剪贴板里没有图片。请先复制一张截图或一个图片文件（按 Print Screen，或在看图软件、文件管理器中复制）。</translation>
    </message>
    <message>
        <source>The clipboard changed while it was being read. Copy the image again and retry.</source>
        <translation>读取时剪贴板内容发生了变化。请重新复制图片后再试。</translation>
    </message>
    <message>
        <source>Clipboard image</source>
        <translation>剪贴板图片</translation>
    </message>
    <message>
        <source>The clipboard cannot be read.</source>
        <translation>无法读取剪贴板。</translation>
    </message>
    <message>
        <source>The copied files are not images (PNG, JPEG, TIFF, BMP, WebP, GIF).</source>
        <translation>复制的文件不是图片（PNG、JPEG、TIFF、BMP、WebP、GIF）。</translation>
    </message>
    <message>
        <source>Reading the clipboard…</source>
        <translation>正在读取剪贴板…</translation>
    </message>
    <message>
        <source>The clipboard cannot be read: {why}</source>
        <translation>无法读取剪贴板：{why}</translation>
    </message>
    <message>
        <source>The clipboard image cannot be used: {why}</source>
        <translation>无法使用剪贴板中的图片：{why}</translation>
    </message>
    <message>
        <source>The clipboard image is too large for the memory left.</source>
        <translation>剪贴板中的图片太大，剩余内存不足。</translation>
    </message>
    <message>
        <source>Snip cancelled</source>
        <translation>已取消截图</translation>
    </message>
    <message>
        <source>Snip {n}</source>
        <translation>截图 {n}</translation>
    </message>
    <message>
        <source>Copied {n} characters of a table to the clipboard</source>
        <translation>已将表格（{n} 个字符）复制到剪贴板</translation>
    </message>
    <message>
        <source>Copied {n} characters of text to the clipboard</source>
        <translation>已将 {n} 个字符的文本复制到剪贴板</translation>
    </message>
    <message>
        <source>Nothing was selected: drag a rectangle around the text. The snip was cancelled.</source>
        <translation>没有选中任何区域：请拖出一个框住文字的矩形。本次截图已取消。</translation>
    </message>
    <message>
        <source>The screen could not be captured on this desktop.</source>
        <translation>无法在此桌面环境下截取屏幕。</translation>
    </message>
    <message>
        <source>No D-Bus session bus.</source>
        <translation>没有 D-Bus 会话总线。</translation>
    </message>
    <message>
        <source>Cannot listen to the desktop portal.</source>
        <translation>无法监听桌面门户（portal）。</translation>
    </message>
    <message>
        <source>The desktop portal refused the screenshot ({why}).</source>
        <translation>桌面门户拒绝了截图（{why}）。</translation>
    </message>
    <message>
        <source>The desktop portal gave no request handle.</source>
        <translation>桌面门户没有返回请求句柄。</translation>
    </message>
    <message>
        <source>The desktop portal did not answer; was the screenshot permission refused?</source>
        <translation>桌面门户没有响应；是否拒绝了截图权限？</translation>
    </message>
    <message>
        <source>The screenshot was cancelled.</source>
        <translation>截图已取消。</translation>
    </message>
    <message>
        <source>The desktop refused the screenshot (permission denied).</source>
        <translation>桌面拒绝了截图（没有权限）。</translation>
    </message>
    <message>
        <source>The desktop portal returned no screenshot.</source>
        <translation>桌面门户没有返回截图。</translation>
    </message>
    <message>
        <source>The desktop portal&apos;s screenshot could not be read.</source>
        <translation>无法读取桌面门户返回的截图。</translation>
    </message>
    <message>
        <source>Snip</source>
        <translation>截图</translation>
    </message>
    <message>
        <source>Drag around the text to recognise. Esc cancels.</source>
        <translation>拖动鼠标框选要识别的文字，按 Esc 取消。</translation>
    </message>
</context>
<context>
    <name>CodeChips</name>
    <message>
        <source>Open web address?</source>
        <translation>打开网址？</translation>
    </message>
    <message>
        <source>This code links to:</source>
        <translation>此码指向：</translation>
    </message>
    <message>
        <source>Open it in your browser?</source>
        <translation>要在浏览器中打开吗？</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Copy the code&apos;s content</source>
        <translation>复制码的内容</translation>
    </message>
    <message>
        <source>Open…</source>
        <translation>打开…</translation>
    </message>
    <message>
        <source>Open {url} in the browser (asks first)</source>
        <translation>在浏览器中打开 {url}（会先确认）</translation>
    </message>
</context>
<context>
    <name>DoubtMarks</name>
    <message>
        <source>Doubtful: the CPU engine read “{cpu}” here</source>
        <translation>存疑：CPU 引擎在这里识别为“{cpu}”</translation>
    </message>
    <message>
        <source>Doubtful: the CPU engine read something else here</source>
        <translation>存疑：CPU 引擎在这里识别出了不同的内容</translation>
    </message>
    <message>
        <source>No doubtful words</source>
        <translation>没有存疑的词</translation>
    </message>
    <message>
        <source>1 doubtful word</source>
        <translation>1 个存疑的词</translation>
    </message>
    <message>
        <source>{n} doubtful words</source>
        <translation>{n} 个存疑的词</translation>
    </message>
</context>
<context>
    <name>EmptyState</name>
    <message>
        <source>Drop images or PDFs here, or paste a screenshot</source>
        <translation>把图片或 PDF 拖到这里，或粘贴一张截图</translation>
    </message>
    <message>
        <source>PNG, JPEG, TIFF, BMP, WebP and PDF. Ctrl+O opens a file, Ctrl+V pastes.</source>
        <translation>支持 PNG、JPEG、TIFF、BMP、WebP 和 PDF。按 Ctrl+O 打开文件，Ctrl+V 粘贴。</translation>
    </message>
    <message>
        <source>Open a file…</source>
        <translation>打开文件…</translation>
    </message>
</context>
<context>
    <name>EngineHost</name>
    <message>
        <source>No server address is set for the remote engine.</source>
        <translation>远程引擎还没有设置服务器地址。</translation>
    </message>
    <message>
        <source>Enter it in View &gt; Engine panel, under Remote server.</source>
        <translation>请在“视图 &gt; 引擎面板”的“远程服务器”中填写。</translation>
    </message>
    <message>
        <source>not started</source>
        <translation>未启动</translation>
    </message>
    <message>
        <source>starting {engine}</source>
        <translation>正在启动 {engine}</translation>
    </message>
    <message>
        <source>start cancelled</source>
        <translation>已取消启动</translation>
    </message>
    <message>
        <source>{engine} ready</source>
        <translation>{engine} 已就绪</translation>
    </message>
    <message>
        <source>restarting</source>
        <translation>正在重新启动</translation>
    </message>
    <message>
        <source>Stopping the engine failed</source>
        <translation>停止引擎失败</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
</context>
<context>
    <name>EnginePanel</name>
    <message>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>CPU (RapidOCR, no GPU needed)</source>
        <translation>CPU（RapidOCR，无需显卡）</translation>
    </message>
    <message>
        <source>A vision model on this computer (LMDeploy)</source>
        <translation>本机视觉模型（LMDeploy）</translation>
    </message>
    <message>
        <source>A vision model on this computer (transformers)</source>
        <translation>本机视觉模型（transformers）</translation>
    </message>
    <message>
        <source>Remote server (OpenAI-compatible)</source>
        <translation>远程服务器（兼容 OpenAI 接口）</translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>Starting</source>
        <translation>正在启动</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>就绪</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>No NVIDIA GPU found: the driver reports none.</source>
        <translation>未找到 NVIDIA 显卡：驱动报告没有显卡。</translation>
    </message>
    <message>
        <source>No NVIDIA driver is installed, so no GPU can be used.</source>
        <translation>没有安装 NVIDIA 驱动，因此无法使用显卡。</translation>
    </message>
    <message>
        <source>The GPU could not be checked: the NVIDIA library for Python (nvidia-ml-py) is missing.</source>
        <translation>无法检测显卡：缺少 NVIDIA 的 Python 库（nvidia-ml-py）。</translation>
    </message>
    <message>
        <source>The GPU could not be checked ({why}).</source>
        <translation>无法检测显卡（{why}）。</translation>
    </message>
    <message>
        <source>GPU {i}: {name}, {free} of {total} GiB free, compute capability {cc} ({dtype})</source>
        <translation>显卡 {i}：{name}，空闲 {free} / {total} GiB，计算能力 {cc}（{dtype}）</translation>
    </message>
    <message>
        <source>fp16 only</source>
        <translation>仅支持 fp16</translation>
    </message>
    <message>
        <source>No model can run on this computer&apos;s GPU: the CPU engine is used, or a remote server.</source>
        <translation>这台电脑的显卡无法运行模型：将使用 CPU 引擎或远程服务器。</translation>
    </message>
    <message>
        <source>No model fits.</source>
        <translation>没有放得下的模型。</translation>
    </message>
    <message>
        <source>AWQ 4-bit weights</source>
        <translation>AWQ 4 位权重</translation>
    </message>
    <message>
        <source>on {n} GPUs</source>
        <translation>使用 {n} 张显卡</translation>
    </message>
    <message>
        <source>Recommended: {name} ({how}).</source>
        <translation>推荐：{name}（{how}）。</translation>
    </message>
    <message>
        <source>{name} would fit too and read better: download it with Models…</source>
        <translation>{name} 也放得下，识别效果更好：可通过“模型…”下载。</translation>
    </message>
    <message>
        <source>To run a model on this GPU, install the local engine once: pip install &apos;desktop-ocr[gpu]&apos; adds LMDeploy and PyTorch (about 5 GB, needs an NVIDIA driver); the model itself is a separate download (Models…).</source>
        <translation>要在这张显卡上运行模型，需先安装一次本地引擎：pip install &apos;desktop-ocr[gpu]&apos; 会安装 LMDeploy 和 PyTorch（约 5 GB，需要 NVIDIA 驱动）；模型本身需另外下载（“模型…”）。</translation>
    </message>
    <message>
        <source>needs {n} GiB</source>
        <translation>需要 {n} GiB</translation>
    </message>
    <message>
        <source>on disk</source>
        <translation>已在本机</translation>
    </message>
    <message>
        <source>{size} download</source>
        <translation>需下载 {size}</translation>
    </message>
    <message>
        <source> (more than the free VRAM)</source>
        <translation>（超出空闲显存）</translation>
    </message>
    <message>
        <source>Engine</source>
        <translation>引擎</translation>
    </message>
    <message>
        <source>&amp;Engine</source>
        <translation>引擎(&amp;E)</translation>
    </message>
    <message>
        <source> s</source>
        <translation> 秒</translation>
    </message>
    <message>
        <source>The longest wait for a server&apos;s first word, and between two words, before giving up</source>
        <translation>等待服务器返回第一个字、以及两个字之间的最长时间，超时即放弃</translation>
    </message>
    <message>
        <source>Time limit</source>
        <translation>超时时间</translation>
    </message>
    <message>
        <source>Time &amp;limit</source>
        <translation>超时时间(&amp;L)</translation>
    </message>
    <message>
        <source>A model on this computer</source>
        <translation>本机模型</translation>
    </message>
    <message>
        <source>Looking for a GPU…</source>
        <translation>正在检测显卡…</translation>
    </message>
    <message>
        <source>Download</source>
        <translation>下载</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>&amp;Model</source>
        <translation>模型(&amp;M)</translation>
    </message>
    <message>
        <source>a model folder, or a hub id that is on disk</source>
        <translation>模型文件夹，或已在本机的模型仓库 ID</translation>
    </message>
    <message>
        <source>Other model</source>
        <translation>其他模型</translation>
    </message>
    <message>
        <source>found automatically</source>
        <translation>自动查找</translation>
    </message>
    <message>
        <source>An lmdeploy executable, or a Python interpreter that has lmdeploy</source>
        <translation>lmdeploy 可执行文件，或装有 lmdeploy 的 Python 解释器</translation>
    </message>
    <message>
        <source>lmdeploy program</source>
        <translation>lmdeploy 程序</translation>
    </message>
    <message>
        <source>lmdeploy</source>
        <translation>lmdeploy</translation>
    </message>
    <message>
        <source>folder of an InternVL3 -hf model, e.g. InternVL3-1B-hf</source>
        <translation>InternVL3 -hf 模型所在文件夹，例如 InternVL3-1B-hf</translation>
    </message>
    <message>
        <source>transformers loads this folder; nothing is downloaded</source>
        <translation>transformers 会加载这个文件夹，不会下载任何内容</translation>
    </message>
    <message>
        <source>Model folder</source>
        <translation>模型文件夹</translation>
    </message>
    <message>
        <source>Model &amp;folder</source>
        <translation>模型文件夹(&amp;F)</translation>
    </message>
    <message>
        <source>Check again</source>
        <translation>重新检测</translation>
    </message>
    <message>
        <source>Look for the GPU, lmdeploy and the models on disk again</source>
        <translation>重新检测显卡、lmdeploy 和本机上的模型</translation>
    </message>
    <message>
        <source>Models…</source>
        <translation>模型…</translation>
    </message>
    <message>
        <source>Models on disk; download, pause, resume and remove them</source>
        <translation>本机上的模型；可下载、暂停、继续和删除</translation>
    </message>
    <message>
        <source>Remote server</source>
        <translation>远程服务器</translation>
    </message>
    <message>
        <source>Server address</source>
        <translation>服务器地址</translation>
    </message>
    <message>
        <source>&amp;Address</source>
        <translation>地址(&amp;A)</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>API key</source>
        <translation>API 密钥</translation>
    </message>
    <message>
        <source>API &amp;key</source>
        <translation>API 密钥(&amp;K)</translation>
    </message>
    <message>
        <source>The server says which model it runs when the engine starts.</source>
        <translation>引擎启动时，服务器会告知它运行的模型。</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Stop and start again to use the changed settings.</source>
        <translation>停止后再启动，才会使用修改后的设置。</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>启动</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Server log</source>
        <translation>服务器日志</translation>
    </message>
    <message>
        <source>The local server&apos;s output appears here while it runs.</source>
        <translation>本地服务器运行时的输出会显示在这里。</translation>
    </message>
    <message>
        <source>Open log file</source>
        <translation>打开日志文件</translation>
    </message>
    <message>
        <source>This computer</source>
        <translation>本机</translation>
    </message>
    <message>
        <source>The engine settings could not be saved</source>
        <translation>无法保存引擎设置</translation>
    </message>
    <message>
        <source>Checking the GPU failed</source>
        <translation>检测显卡失败</translation>
    </message>
    <message>
        <source>Found: {how}</source>
        <translation>已找到：{how}</translation>
    </message>
    <message>
        <source>Not installed (see above).</source>
        <translation>未安装（见上文）。</translation>
    </message>
    <message>
        <source>Not installed: set the lmdeploy program above, or install the local engine.</source>
        <translation>未安装：请在上方设置 lmdeploy 程序，或安装本地引擎。</translation>
    </message>
    <message>
        <source>Automatic (from the free VRAM)</source>
        <translation>自动（按空闲显存选择）</translation>
    </message>
    <message>
        <source>Automatic: {name}</source>
        <translation>自动：{name}</translation>
    </message>
    <message>
        <source>Other (a model id or folder)…</source>
        <translation>其他（模型 ID 或文件夹）…</translation>
    </message>
    <message>
        <source>Enter the server&apos;s address (and API key), then Start.</source>
        <translation>请填写服务器地址（以及 API 密钥），然后点击“启动”。</translation>
    </message>
    <message>
        <source>The engine cannot be used</source>
        <translation>无法使用该引擎</translation>
    </message>
    <message>
        <source>Not downloaded</source>
        <translation>未下载</translation>
    </message>
    <message>
        <source>{name} is not on this computer yet.</source>
        <translation>本机上还没有 {name}。</translation>
    </message>
    <message>
        <source>Download it (the button above, or Models…); Start works once it is here.</source>
        <translation>请先下载（上方按钮或“模型…”）；下载完成后即可启动。</translation>
    </message>
    <message>
        <source>Starting {engine} failed: {why}</source>
        <translation>启动 {engine} 失败：{why}</translation>
    </message>
    <message>
        <source>A copy is incomplete: {problem}.</source>
        <translation>已有的副本不完整：{problem}。</translation>
    </message>
    <message>
        <source>Download {name}</source>
        <translation>下载 {name}</translation>
    </message>
    <message>
        <source>The local server has not written a log yet.</source>
        <translation>本地服务器还没有写入日志。</translation>
    </message>
    <message>
        <source>Automatic picked {engine}, because {why}.</source>
        <translation>自动选择了 {engine}，原因：{why}。</translation>
    </message>
    <message>
        <source>Automatic picked {engine}.</source>
        <translation>自动选择了 {engine}。</translation>
    </message>
    <message>
        <source>Automatic: deciding…</source>
        <translation>自动：正在选择…</translation>
    </message>
    <message>
        <source>A model on this computer (transformers)</source>
        <translation>本机模型（transformers）</translation>
    </message>
    <message>
        <source>GPU</source>
        <translation>显卡</translation>
    </message>
    <message>
        <source>Worker log</source>
        <translation>工作进程日志</translation>
    </message>
    <message>
        <source>The CPU engine is used.</source>
        <translation>使用的是 CPU 引擎。</translation>
    </message>
    <message>
        <source>Recognition runs on the remote server.</source>
        <translation>识别在远程服务器上进行。</translation>
    </message>
    <message>
        <source>The local model server needs one.</source>
        <translation>本地模型服务器需要显卡。</translation>
    </message>
    <message>
        <source>InternVL3 runs on the CPU (or the Apple GPU).</source>
        <translation>InternVL3 在 CPU（或 Apple 显卡）上运行。</translation>
    </message>
    <message>
        <source>No vision model can run here; the CPU engine is used instead.</source>
        <translation>这里无法运行视觉模型，改用 CPU 引擎。</translation>
    </message>
    <message>
        <source>The local model server needs one: choose the CPU engine or a remote server.</source>
        <translation>本地模型服务器需要显卡：请选择 CPU 引擎或远程服务器。</translation>
    </message>
    <message>
        <source>transformers runs InternVL3 on the CPU (slow: a small model such as InternVL3-1B suits) or the Apple GPU.</source>
        <translation>transformers 会在 CPU（较慢，适合 InternVL3-1B 这类小模型）或 Apple 显卡上运行 InternVL3。</translation>
    </message>
    <message>
        <source>Starting… {s} s</source>
        <translation>正在启动… {s} 秒</translation>
    </message>
    <message>
        <source>The server runs {model}.</source>
        <translation>服务器运行的模型：{model}。</translation>
    </message>
    <message>
        <source>Connected to {endpoint}, model {model}.</source>
        <translation>已连接到 {endpoint}，模型 {model}。</translation>
    </message>
    <message>
        <source>What to do: {fix}</source>
        <translation>解决办法：{fix}</translation>
    </message>
    <message>
        <source>Enter the server&apos;s address first.</source>
        <translation>请先填写服务器地址。</translation>
    </message>
    <message>
        <source>lmdeploy is not installed on this computer.</source>
        <translation>这台电脑上没有安装 lmdeploy。</translation>
    </message>
    <message>
        <source>Choose the model folder first.</source>
        <translation>请先选择模型文件夹。</translation>
    </message>
    <message>
        <source>Start the engine now (it also starts by itself when a recognition needs it)</source>
        <translation>立即启动引擎（识别需要时也会自动启动）</translation>
    </message>
</context>
<context>
    <name>Export</name>
    <message>
        <source>Finding where the text sits for the PDF: page {done} of {total} (CPU engine)…</source>
        <translation>正在为 PDF 定位文字位置：第 {done} 页，共 {total} 页（CPU 引擎）…</translation>
    </message>
</context>
<context>
    <name>HistoryPanel</name>
    <message>
        <source>Forever</source>
        <translation>永久</translation>
    </message>
    <message>
        <source>1 year</source>
        <translation>1 年</translation>
    </message>
    <message>
        <source>6 months</source>
        <translation>6 个月</translation>
    </message>
    <message>
        <source>90 days</source>
        <translation>90 天</translation>
    </message>
    <message>
        <source>30 days</source>
        <translation>30 天</translation>
    </message>
    <message>
        <source>7 days</source>
        <translation>7 天</translation>
    </message>
    <message>
        <source>Failed: {error}</source>
        <translation>失败：{error}</translation>
    </message>
    <message>
        <source>Choose a result to see it here.</source>
        <translation>选择一条结果，即可在这里查看。</translation>
    </message>
    <message>
        <source>Stored result</source>
        <translation>已保存的结果</translation>
    </message>
    <message>
        <source>(no image)</source>
        <translation>（无图片）</translation>
    </message>
    <message>
        <source>Page {n} of {total}; </source>
        <translation>第 {n} 页，共 {total} 页；</translation>
    </message>
    <message>
        <source>whole page</source>
        <translation>整页</translation>
    </message>
    <message>
        <source>Whole page</source>
        <translation>整页</translation>
    </message>
    <message>
        <source>{region}: from {x} across, {y} down, {w} × {h} of the page</source>
        <translation>{region}：距左 {x}，距上 {y}，占页面 {w} × {h}</translation>
    </message>
    <message>
        <source>Region</source>
        <translation>区域</translation>
    </message>
    <message>
        <source>; page turned {degrees}°</source>
        <translation>；页面旋转了 {degrees}°</translation>
    </message>
    <message>
        <source>From the PDF&apos;s own text</source>
        <translation>来自 PDF 自带的文字</translation>
    </message>
    <message>
        <source>Took {s} s</source>
        <translation>用时 {s} 秒</translation>
    </message>
    <message>
        <source>, {n} attempts</source>
        <translation>，尝试 {n} 次</translation>
    </message>
    <message>
        <source>The answer was cut at the token limit.</source>
        <translation>回答在达到 token 上限时被截断。</translation>
    </message>
    <message>
        <source>A repeating tail was cut off.</source>
        <translation>结尾重复的部分已被截掉。</translation>
    </message>
    <message>
        <source>Cancelled before the end.</source>
        <translation>在完成前被取消。</translation>
    </message>
    <message>
        <source>Search history (any language)…</source>
        <translation>搜索历史记录（支持任何语言）…</translation>
    </message>
    <message>
        <source>Search history</source>
        <translation>搜索历史记录</translation>
    </message>
    <message>
        <source>Stored results</source>
        <translation>已保存的结果</translation>
    </message>
    <message>
        <source>Open the source at this page and region (Enter)</source>
        <translation>打开来源文件并定位到这一页和区域（Enter）</translation>
    </message>
    <message>
        <source>Copy the result; tables paste as cells (Ctrl+C)</source>
        <translation>复制结果；表格粘贴后仍是单元格（Ctrl+C）</translation>
    </message>
    <message>
        <source>Export the chosen results again, without recognising them again</source>
        <translation>重新导出选中的结果，无需再次识别</translation>
    </message>
    <message>
        <source>One file…</source>
        <translation>一个文件…</translation>
    </message>
    <message>
        <source>One file per input, into a folder…</source>
        <translation>每个输入一个文件，存入文件夹…</translation>
    </message>
    <message>
        <source>Delete the chosen results (Del)</source>
        <translation>删除选中的结果（Del）</translation>
    </message>
    <message>
        <source>Clear all…</source>
        <translation>全部清空…</translation>
    </message>
    <message>
        <source>Delete every stored result</source>
        <translation>删除所有已保存的结果</translation>
    </message>
    <message>
        <source>How long the library keeps results</source>
        <translation>结果库保留结果的时长</translation>
    </message>
    <message>
        <source>&amp;Keep:</source>
        <translation>保留(&amp;K)：</translation>
    </message>
    <message>
        <source>Opening the library…</source>
        <translation>正在打开结果库…</translation>
    </message>
    <message>
        <source>{n} days</source>
        <translation>{n} 天</translation>
    </message>
    <message>
        <source>{shown} found of {total}</source>
        <translation>共 {total} 条，找到 {shown} 条</translation>
    </message>
    <message>
        <source>Searching…</source>
        <translation>正在搜索…</translation>
    </message>
    <message>
        <source>Nothing found</source>
        <translation>没有找到</translation>
    </message>
    <message>
        <source>1 result</source>
        <translation>1 条结果</translation>
    </message>
    <message>
        <source>{n} results</source>
        <translation>{n} 条结果</translation>
    </message>
    <message>
        <source>No results yet: what you recognise is kept here.</source>
        <translation>还没有结果：识别过的内容都会保存在这里。</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>打开</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Re-export…</source>
        <translation>重新导出…</translation>
    </message>
    <message>
        <source>Re-export, one file per input…</source>
        <translation>重新导出，每个输入一个文件…</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Copied 1 result</source>
        <translation>已复制 1 条结果</translation>
    </message>
    <message>
        <source>Copied {n} results</source>
        <translation>已复制 {n} 条结果</translation>
    </message>
    <message>
        <source>Export results again into a folder</source>
        <translation>重新导出结果到文件夹</translation>
    </message>
    <message>
        <source>Export results again</source>
        <translation>重新导出结果</translation>
    </message>
    <message>
        <source>Exporting to {name} failed</source>
        <translation>导出到 {name} 失败</translation>
    </message>
    <message>
        <source>{n} files in {folder}</source>
        <translation>{folder} 中的 {n} 个文件</translation>
    </message>
    <message>
        <source>Exported 1 result to {where}</source>
        <translation>已将 1 条结果导出到 {where}</translation>
    </message>
    <message>
        <source>Exported {n} results to {where}</source>
        <translation>已将 {n} 条结果导出到 {where}</translation>
    </message>
    <message>
        <source>Delete results</source>
        <translation>删除结果</translation>
    </message>
    <message>
        <source>Delete the {n} chosen results from the history?</source>
        <translation>要从历史记录中删除选中的 {n} 条结果吗？</translation>
    </message>
    <message>
        <source>Clear history</source>
        <translation>清空历史记录</translation>
    </message>
    <message>
        <source>Delete all {n} stored results? This cannot be undone.</source>
        <translation>要删除全部 {n} 条已保存的结果吗？此操作无法撤销。</translation>
    </message>
    <message>
        <source>Delete all</source>
        <translation>全部删除</translation>
    </message>
    <message>
        <source>Keep results</source>
        <translation>保留结果</translation>
    </message>
    <message>
        <source>Results older than {age} will be deleted now, and from now on.</source>
        <translation>超过 {age} 的结果将立即删除，以后也会自动删除。</translation>
    </message>
    <message>
        <source>Delete older</source>
        <translation>删除较早的结果</translation>
    </message>
    <message>
        <source>The setting was not saved: {why}</source>
        <translation>设置未能保存：{why}</translation>
    </message>
</context>
<context>
    <name>Loader</name>
    <message>
        <source>Cannot open {name}: {why}</source>
        <translation>无法打开 {name}：{why}</translation>
    </message>
    <message>
        <source>{name} was not opened (no password given).</source>
        <translation>{name} 未打开（没有输入密码）。</translation>
    </message>
    <message>
        <source>Cannot open {name}</source>
        <translation>无法打开 {name}</translation>
    </message>
    <message>
        <source>{name} is damaged; it was repaired as far as possible and some pages or content may be missing.</source>
        <translation>{name} 已损坏；已尽可能修复，部分页面或内容可能缺失。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Images and documents</source>
        <translation>图片和文档</translation>
    </message>
    <message>
        <source>Images</source>
        <translation>图片</translation>
    </message>
    <message>
        <source>All files</source>
        <translation>所有文件</translation>
    </message>
    <message>
        <source>&amp;Open…</source>
        <translation>打开(&amp;O)…</translation>
    </message>
    <message>
        <source>Open images or PDFs (several files make a batch)</source>
        <translation>打开图片或 PDF（选择多个文件即为批量识别）</translation>
    </message>
    <message>
        <source>Open &amp;folder…</source>
        <translation>打开文件夹(&amp;F)…</translation>
    </message>
    <message>
        <source>Recognise every image and PDF in a folder as a batch</source>
        <translation>批量识别文件夹中的所有图片和 PDF</translation>
    </message>
    <message>
        <source>&amp;Export…</source>
        <translation>导出(&amp;E)…</translation>
    </message>
    <message>
        <source>Save the results of the whole document (.xlsx, .csv, .txt, .md, .html, .json, .docx, .pdf)</source>
        <translation>保存整个文档的识别结果（.xlsx、.csv、.txt、.md、.html、.json、.docx、.pdf）</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Recognise</source>
        <translation>识别(&amp;R)</translation>
    </message>
    <message>
        <source>Recognise the current page: each region in order, or the whole page</source>
        <translation>识别当前页：按顺序识别每个区域，没有区域时识别整页</translation>
    </message>
    <message>
        <source>Recognise &amp;all pages</source>
        <translation>识别所有页面(&amp;A)</translation>
    </message>
    <message>
        <source>Recognise every page of the document (pages already done are kept)</source>
        <translation>识别文档的每一页（已识别的页面会保留）</translation>
    </message>
    <message>
        <source>Use the PDF&apos;s &amp;text</source>
        <translation>使用 PDF 自带文字(&amp;T)</translation>
    </message>
    <message>
        <source>Take this page&apos;s text from the PDF itself, without OCR</source>
        <translation>直接取用 PDF 中这一页自带的文字，不做 OCR</translation>
    </message>
    <message>
        <source>Use PDF text when pages have it</source>
        <translation>页面自带文字时使用 PDF 文字</translation>
    </message>
    <message>
        <source>Recognise all pages: take the PDF&apos;s own text where a page has it and run OCR only on scanned pages</source>
        <translation>识别所有页面时：页面自带文字就直接取用，只对扫描页做 OCR</translation>
    </message>
    <message>
        <source>Clear results</source>
        <translation>清除结果</translation>
    </message>
    <message>
        <source>Forget the results of this document (History keeps them)</source>
        <translation>清除这个文档的识别结果（历史记录中仍会保留）</translation>
    </message>
    <message>
        <source>Retry with stronger repetition &amp;penalty</source>
        <translation>加大重复惩罚后重试(&amp;P)</translation>
    </message>
    <message>
        <source>Run the last recognition again with a higher repetition penalty</source>
        <translation>用更高的重复惩罚重新进行上一次识别</translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation>取消(&amp;C)</translation>
    </message>
    <message>
        <source>Stop the recognition in progress</source>
        <translation>停止正在进行的识别</translation>
    </message>
    <message>
        <source>&amp;Copy text</source>
        <translation>复制文字(&amp;C)</translation>
    </message>
    <message>
        <source>Copy the result to the clipboard (tables as cells, as edited)</source>
        <translation>把结果复制到剪贴板（表格按编辑后的单元格复制）</translation>
    </message>
    <message>
        <source>Zoom &amp;in</source>
        <translation>放大(&amp;I)</translation>
    </message>
    <message>
        <source>Zoom &amp;out</source>
        <translation>缩小(&amp;O)</translation>
    </message>
    <message>
        <source>Fit &amp;page</source>
        <translation>适合页面(&amp;P)</translation>
    </message>
    <message>
        <source>Show the whole page</source>
        <translation>显示整页</translation>
    </message>
    <message>
        <source>Fit &amp;width</source>
        <translation>适合宽度(&amp;W)</translation>
    </message>
    <message>
        <source>Fit the page&apos;s width to the window</source>
        <translation>让页面宽度与窗口一致</translation>
    </message>
    <message>
        <source>&amp;100 %</source>
        <translation>实际大小(&amp;1)</translation>
    </message>
    <message>
        <source>Show the page at its actual size</source>
        <translation>按实际大小显示页面</translation>
    </message>
    <message>
        <source>Rotate &amp;right</source>
        <translation>向右旋转(&amp;R)</translation>
    </message>
    <message>
        <source>Turn the page 90° clockwise</source>
        <translation>将页面顺时针旋转 90°</translation>
    </message>
    <message>
        <source>Rotate &amp;left</source>
        <translation>向左旋转(&amp;L)</translation>
    </message>
    <message>
        <source>Turn the page 90° counter-clockwise</source>
        <translation>将页面逆时针旋转 90°</translation>
    </message>
    <message>
        <source>&amp;Next page</source>
        <translation>下一页(&amp;N)</translation>
    </message>
    <message>
        <source>&amp;Previous page</source>
        <translation>上一页(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;First page</source>
        <translation>第一页(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Last page</source>
        <translation>最后一页(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Go to page…</source>
        <translation>转到页面(&amp;G)…</translation>
    </message>
    <message>
        <source>Type the number of the page to show</source>
        <translation>输入要显示的页码</translation>
    </message>
    <message>
        <source>&amp;Delete region</source>
        <translation>删除区域(&amp;D)</translation>
    </message>
    <message>
        <source>Delete the selected region</source>
        <translation>删除选中的区域</translation>
    </message>
    <message>
        <source>Clear regions</source>
        <translation>清除所有区域</translation>
    </message>
    <message>
        <source>Delete every region on this page</source>
        <translation>删除这一页上的所有区域</translation>
    </message>
    <message>
        <source>&amp;About</source>
        <translation>关于(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Keyboard shortcuts</source>
        <translation>键盘快捷键(&amp;K)</translation>
    </message>
    <message>
        <source>Every command and its key</source>
        <translation>所有命令及其快捷键</translation>
    </message>
    <message>
        <source>&amp;Preferences…</source>
        <translation>首选项(&amp;P)…</translation>
    </message>
    <message>
        <source>Engine, task, language, theme, clipboard, limits, history</source>
        <translation>引擎、任务、语言、主题、剪贴板、限制、历史记录</translation>
    </message>
    <message>
        <source>&amp;History</source>
        <translation>历史记录(&amp;H)</translation>
    </message>
    <message>
        <source>Every result kept: search, open, copy and export again</source>
        <translation>所有保存的结果：搜索、打开、复制、重新导出</translation>
    </message>
    <message>
        <source>&amp;Paste image</source>
        <translation>粘贴图片(&amp;P)</translation>
    </message>
    <message>
        <source>Recognise the image (or image file) on the clipboard</source>
        <translation>识别剪贴板中的图片（或图片文件）</translation>
    </message>
    <message>
        <source>Recognise &amp;clipboard</source>
        <translation>识别剪贴板(&amp;C)</translation>
    </message>
    <message>
        <source>Recognise the image on the clipboard</source>
        <translation>识别剪贴板中的图片</translation>
    </message>
    <message>
        <source>&amp;Snip screen region</source>
        <translation>截图识别(&amp;S)</translation>
    </message>
    <message>
        <source>Select a region of the screen and recognise it</source>
        <translation>框选屏幕上的区域并识别</translation>
    </message>
    <message>
        <source>Show &amp;window</source>
        <translation>显示窗口(&amp;W)</translation>
    </message>
    <message>
        <source>&amp;Watch clipboard for images</source>
        <translation>监听剪贴板图片(&amp;W)</translation>
    </message>
    <message>
        <source>Recognise every new image copied to the clipboard</source>
        <translation>自动识别每张新复制到剪贴板的图片</translation>
    </message>
    <message>
        <source>Copy result &amp;automatically</source>
        <translation>自动复制结果(&amp;A)</translation>
    </message>
    <message>
        <source>Put the text of snips and clipboard images on the clipboard</source>
        <translation>截图和剪贴板图片的识别结果自动复制到剪贴板</translation>
    </message>
    <message>
        <source>&amp;Keep running in the tray when closed</source>
        <translation>关闭窗口时最小化到托盘(&amp;K)</translation>
    </message>
    <message>
        <source>Check the words with the CPU engine</source>
        <translation>用 CPU 引擎核对文字</translation>
    </message>
    <message>
        <source>After a vision-language engine&apos;s answer, the CPU engine reads the same image in the background: doubtful words are underlined, codes shown</source>
        <translation>视觉语言引擎回答后，CPU 引擎会在后台再读一遍同一张图像：存疑的字词加下划线，并显示识别到的条码</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>Open &amp;recent</source>
        <translation>最近打开(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>编辑(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Task</source>
        <translation>任务(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>Main</source>
        <translation>主工具栏</translation>
    </message>
    <message>
        <source>Task</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>On the CPU engine: {note}</source>
        <translation>使用 CPU 引擎时：{note}</translation>
    </message>
    <message>
        <source>What to extract (regions can have their own task)</source>
        <translation>要提取的内容（每个区域也可以单独设置任务）</translation>
    </message>
    <message>
        <source>Go to page (Ctrl+G)</source>
        <translation>转到页面（Ctrl+G）</translation>
    </message>
    <message>
        <source>Page number</source>
        <translation>页码</translation>
    </message>
    <message>
        <source> of {n} </source>
        <translation> / {n} </translation>
    </message>
    <message>
        <source>Zoom</source>
        <translation>缩放</translation>
    </message>
    <message>
        <source>Results</source>
        <translation>识别结果</translation>
    </message>
    <message>
        <source>This page</source>
        <translation>本页</translation>
    </message>
    <message>
        <source>Whole document</source>
        <translation>整个文档</translation>
    </message>
    <message>
        <source>Show the results of this page or of every page</source>
        <translation>显示本页或所有页面的结果</translation>
    </message>
    <message>
        <source>Results shown</source>
        <translation>显示的结果</translation>
    </message>
    <message>
        <source>Result text</source>
        <translation>结果文本</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>就绪</translation>
    </message>
    <message>
        <source>Engine: {name}</source>
        <translation>引擎：{name}</translation>
    </message>
    <message>
        <source>The recognition engine is not available</source>
        <translation>识别引擎不可用</translation>
    </message>
    <message>
        <source>Chosen automatically: {reason}</source>
        <translation>自动选择：{reason}</translation>
    </message>
    <message>
        <source>Open images or PDFs</source>
        <translation>打开图片或 PDF</translation>
    </message>
    <message>
        <source>Recognise every image and PDF in</source>
        <translation>批量识别此文件夹中的所有图片和 PDF</translation>
    </message>
    <message>
        <source>Opening {name}…</source>
        <translation>正在打开 {name}…</translation>
    </message>
    <message>
        <source>{name} holds no images or PDFs.</source>
        <translation>{name} 中没有图片或 PDF。</translation>
    </message>
    <message>
        <source>Start a new batch?</source>
        <translation>要开始新的批量任务吗？</translation>
    </message>
    <message>
        <source>Recognising {n} files…</source>
        <translation>正在识别 {n} 个文件…</translation>
    </message>
    <message>
        <source>(no recent files)</source>
        <translation>（没有最近的文件）</translation>
    </message>
    <message>
        <source>Clear the list</source>
        <translation>清空列表</translation>
    </message>
    <message>
        <source>1 page</source>
        <translation>1 页</translation>
    </message>
    <message>
        <source>{n} pages</source>
        <translation>{n} 页</translation>
    </message>
    <message>
        <source>Page {n} of {total}</source>
        <translation>第 {n} 页，共 {total} 页</translation>
    </message>
    <message>
        <source>{name}, page {n}</source>
        <translation>{name}，第 {n} 页</translation>
    </message>
    <message>
        <source>Open or drop an image first.</source>
        <translation>请先打开或拖入一张图片。</translation>
    </message>
    <message>
        <source>A whole document or batch is being recognised; cancel it first.</source>
        <translation>正在识别整个文档或批量任务，请先取消。</translation>
    </message>
    <message>
        <source>A vision-language engine (InternVL3) does this task properly.</source>
        <translation>视觉语言模型引擎（InternVL3）才能真正完成这项任务。</translation>
    </message>
    <message>
        <source>Open a document first.</source>
        <translation>请先打开一个文档。</translation>
    </message>
    <message>
        <source>Every page is recognised already. Use Recognise &gt; Clear results to start again.</source>
        <translation>所有页面都已识别。如需重来，请使用“识别 &gt; 清除结果”。</translation>
    </message>
    <message>
        <source>Results: {what}</source>
        <translation>识别结果：{what}</translation>
    </message>
    <message>
        <source>Recognising {what}…</source>
        <translation>正在识别 {what}…</translation>
    </message>
    <message>
        <source>starting…</source>
        <translation>正在开始…</translation>
    </message>
    <message>
        <source>{what}: waiting for the server… {s} s</source>
        <translation>{what}：正在等待服务器… {s} 秒</translation>
    </message>
    <message>
        <source>{done} / {total} parts</source>
        <translation>{done} / {total} 部分</translation>
    </message>
    <message>
        <source>{eta} left</source>
        <translation>剩余 {eta}</translation>
    </message>
    <message>
        <source>Answered in {s} s</source>
        <translation>{s} 秒内完成回答</translation>
    </message>
    <message>
        <source>Recognised {n} pages of {what} in {s} s</source>
        <translation>已识别 {what} 的 {n} 页，用时 {s} 秒</translation>
    </message>
    <message>
        <source>Recognised {n} of {total} files in {s} s</source>
        <translation>已识别 {total} 个文件中的 {n} 个，用时 {s} 秒</translation>
    </message>
    <message>
        <source>Recognised {what} in {s} s with {engine}</source>
        <translation>已用 {engine} 识别 {what}，用时 {s} 秒</translation>
    </message>
    <message>
        <source>the PDF text</source>
        <translation>PDF 自带文字</translation>
    </message>
    <message>
        <source> — output cut at the token limit</source>
        <translation> — 输出在达到 token 上限时被截断</translation>
    </message>
    <message>
        <source>The output was cut at the token limit.</source>
        <translation>输出在达到 token 上限时被截断。</translation>
    </message>
    <message>
        <source> — stopped a repetition loop</source>
        <translation> — 已中止重复输出</translation>
    </message>
    <message>
        <source>The model kept repeating itself, so the result was stopped and is cut. Try Recognise &gt; Retry with stronger repetition penalty, or a smaller region.</source>
        <translation>模型一直在重复输出，因此已中止，结果不完整。可尝试“识别 &gt; 加大重复惩罚后重试”，或框选更小的区域。</translation>
    </message>
    <message>
        <source> — no text found</source>
        <translation> — 没有找到文字</translation>
    </message>
    <message>
        <source>Recognition failed</source>
        <translation>识别失败</translation>
    </message>
    <message>
        <source>Cancelled after {s} s; the pages done are kept, Recognise all pages resumes</source>
        <translation>{s} 秒后已取消；已识别的页面会保留，再次“识别所有页面”即可继续</translation>
    </message>
    <message>
        <source>Cancelled after {s} s</source>
        <translation>{s} 秒后已取消</translation>
    </message>
    <message>
        <source>Results: {n} of {total} pages</source>
        <translation>识别结果：{total} 页中的 {n} 页</translation>
    </message>
    <message>
        <source>Results: page {n}</source>
        <translation>识别结果：第 {n} 页</translation>
    </message>
    <message>
        <source>Results: page {n} (not recognised yet)</source>
        <translation>识别结果：第 {n} 页（尚未识别）</translation>
    </message>
    <message>
        <source>There is no text to copy yet.</source>
        <translation>还没有可复制的文字。</translation>
    </message>
    <message>
        <source>Nothing to export yet: recognise a page first.</source>
        <translation>还没有可导出的内容：请先识别一页。</translation>
    </message>
    <message>
        <source>Export results</source>
        <translation>导出结果</translation>
    </message>
    <message>
        <source>Exporting to {name} failed</source>
        <translation>导出到 {name} 失败</translation>
    </message>
    <message>
        <source>Exported 1 page to {path}</source>
        <translation>已将 1 页导出到 {path}</translation>
    </message>
    <message>
        <source>Exported {n} pages to {path}</source>
        <translation>已将 {n} 页导出到 {path}</translation>
    </message>
    <message>
        <source>Text</source>
        <translation>文本</translation>
    </message>
    <message>
        <source>Table</source>
        <translation>表格</translation>
    </message>
    <message>
        <source>The answer&apos;s tables as editable grids; export and copy use them as edited</source>
        <translation>回答中的表格，以可编辑的表格显示；导出和复制都使用编辑后的内容</translation>
    </message>
    <message>
        <source>&amp;Engine panel</source>
        <translation>引擎面板(&amp;E)</translation>
    </message>
    <message>
        <source>Choose, start and stop the recognition engine; GPU and CPU meters</source>
        <translation>选择、启动和停止识别引擎；显卡和 CPU 监控</translation>
    </message>
    <message>
        <source>History</source>
        <translation>历史记录</translation>
    </message>
    <message>
        <source>{what}: stored result from {when}</source>
        <translation>{what}：{when} 保存的结果</translation>
    </message>
    <message>
        <source>A recognition of 1 file ({names}) did not finish last time.</source>
        <translation>上次有 1 个文件（{names}）没有识别完。</translation>
    </message>
    <message>
        <source>A recognition of {n} files ({names}) did not finish last time.</source>
        <translation>上次有 {n} 个文件（{names}）没有识别完。</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>&amp;Batch panel</source>
        <translation>批量面板(&amp;B)</translation>
    </message>
    <message>
        <source>System</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>The new language is used from the next start of {app}.</source>
        <translation>新的语言将在 {app} 下次启动时生效。</translation>
    </message>
    <message>
        <source>Restart now? Open files can be opened again; results are kept in History.</source>
        <translation>现在重新启动吗？打开的文件会重新打开，识别结果保存在历史记录中。</translation>
    </message>
    <message>
        <source>Restart now</source>
        <translation>立即重启</translation>
    </message>
    <message>
        <source>Later</source>
        <translation>稍后</translation>
    </message>
    <message>
        <source>Some settings in {path} could not be used ({keys}); they are back to their defaults.</source>
        <translation>{path} 中的部分设置无法使用（{keys}），已恢复为默认值。</translation>
    </message>
    <message>
        <source>The settings file {path} could not be read, so the defaults are used.</source>
        <translation>无法读取设置文件 {path}，已使用默认设置。</translation>
    </message>
    <message>
        <source>The damaged file was kept as {name}.</source>
        <translation>损坏的文件已另存为 {name}。</translation>
    </message>
    <message>
        <source>About {app}</source>
        <translation>关于 {app}</translation>
    </message>
    <message>
        <source>Text and tables from scans, photos, screenshots and PDFs, recognised on this computer: nothing leaves the machine.</source>
        <translation>从扫描件、照片、截图和 PDF 中识别文字和表格，全部在本机完成，数据不会离开这台电脑。</translation>
    </message>
    <message>
        <source>Log file: {path}</source>
        <translation>日志文件：{path}</translation>
    </message>
    <message>
        <source>A recognition is running ({what}).</source>
        <translation>正在识别（{what}）。</translation>
    </message>
    <message>
        <source>What finished is kept in History; the rest can be resumed.</source>
        <translation>已完成的部分保存在历史记录中，其余部分之后可以继续。</translation>
    </message>
    <message>
        <source>Stop it</source>
        <translation>停止识别</translation>
    </message>
    <message>
        <source>Still running in the tray. Quit from its menu.</source>
        <translation>程序仍在托盘中运行，可从托盘菜单退出。</translation>
    </message>
    <message>
        <source>Quit anyway?</source>
        <translation>仍要退出吗？</translation>
    </message>
</context>
<context>
    <name>Messages</name>
    <message>
        <source>its symbolic links go round in a loop</source>
        <translation>它的符号链接形成了循环</translation>
    </message>
    <message>
        <source>it is not a regular file ({kind}); choose a file name</source>
        <translation>它不是普通文件（{kind}）；请选择一个文件名</translation>
    </message>
    <message>
        <source>The existing file was left unchanged.</source>
        <translation>原有文件未被改动。</translation>
    </message>
    <message>
        <source>a device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>a named pipe</source>
        <translation>命名管道</translation>
    </message>
    <message>
        <source>a socket</source>
        <translation>套接字</translation>
    </message>
    <message>
        <source>a special file</source>
        <translation>特殊文件</translation>
    </message>
    <message>
        <source>a folder of that name is there</source>
        <translation>已有同名文件夹</translation>
    </message>
    <message>
        <source>Cannot save {path}: {why}.</source>
        <translation>无法保存 {path}：{why}。</translation>
    </message>
    <message>
        <source>{path} is not a folder</source>
        <translation>{path} 不是文件夹</translation>
    </message>
    <message>
        <source>the folder {path} does not exist</source>
        <translation>文件夹 {path} 不存在</translation>
    </message>
    <message>
        <source>the disk holding {path} is full</source>
        <translation>{path} 所在的磁盘已满</translation>
    </message>
    <message>
        <source>no permission to write in {path}</source>
        <translation>没有在 {path} 中写入的权限</translation>
    </message>
    <message>
        <source>{path} is on a read-only disk</source>
        <translation>{path} 位于只读磁盘上</translation>
    </message>
    <message>
        <source>the file name is too long</source>
        <translation>文件名太长</translation>
    </message>
    <message>
        <source>Page {n}: {why}</source>
        <translation>第 {n} 页：{why}</translation>
    </message>
    <message>
        <source>Page {n} cannot be read: {why}</source>
        <translation>无法读取第 {n} 页：{why}</translation>
    </message>
    <message>
        <source>Page {n} is too large to render at this zoom ({width:,.0f} x {height:,.0f} pixels).</source>
        <translation>第 {n} 页在此缩放比例下太大，无法渲染（{width:,.0f} × {height:,.0f} 像素）。</translation>
    </message>
    <message>
        <source>a PDF</source>
        <translation>PDF 文件</translation>
    </message>
    <message>
        <source>an XPS document</source>
        <translation>XPS 文档</translation>
    </message>
    <message>
        <source>an EPUB</source>
        <translation>EPUB 电子书</translation>
    </message>
    <message>
        <source>a CBZ comic</source>
        <translation>CBZ 漫画</translation>
    </message>
    <message>
        <source>an FB2 book</source>
        <translation>FB2 电子书</translation>
    </message>
    <message>
        <source>a MOBI book</source>
        <translation>MOBI 电子书</translation>
    </message>
    <message>
        <source>a web page (HTML)</source>
        <translation>网页（HTML）</translation>
    </message>
    <message>
        <source>an XML file</source>
        <translation>XML 文件</translation>
    </message>
    <message>
        <source>plain text</source>
        <translation>纯文本</translation>
    </message>
    <message>
        <source>a ZIP archive</source>
        <translation>ZIP 压缩包</translation>
    </message>
    <message>
        <source>something else</source>
        <translation>其他内容</translation>
    </message>
    <message>
        <source>This file is named {suffix} but is not {kind}: it looks like {looks}.</source>
        <translation>此文件的扩展名是 {suffix}，但它不是{kind}：看起来像{looks}。</translation>
    </message>
    <message>
        <source>This file is not a PDF or an image that can be opened.</source>
        <translation>此文件不是可以打开的 PDF 或图像。</translation>
    </message>
    <message>
        <source>The image is damaged and cannot be opened ({why}).</source>
        <translation>图像已损坏，无法打开（{why}）。</translation>
    </message>
    <message>
        <source>This PDF is damaged: nothing recoverable (cut short by an interrupted download or copy?).</source>
        <translation>此 PDF 已损坏，没有可恢复的内容（可能是下载或复制中断导致文件不完整）。</translation>
    </message>
    <message>
        <source>This {kind} document is damaged: nothing recoverable.</source>
        <translation>此 {kind} 文档已损坏，没有可恢复的内容。</translation>
    </message>
    <message>
        <source>This PDF is protected by a password.</source>
        <translation>此 PDF 受密码保护。</translation>
    </message>
    <message>
        <source>The password is wrong; this PDF did not open.</source>
        <translation>密码错误，未能打开此 PDF。</translation>
    </message>
    <message>
        <source>the limit is {mp} megapixels</source>
        <translation>上限为 {mp} 百万像素</translation>
    </message>
    <message>
        <source>The file cannot be read (permission denied).</source>
        <translation>无法读取文件（权限不足）。</translation>
    </message>
    <message>
        <source>The file is empty (0 bytes).</source>
        <translation>文件为空（0 字节）。</translation>
    </message>
    <message>
        <source>The file cannot be read ({why}).</source>
        <translation>无法读取文件（{why}）。</translation>
    </message>
    <message>
        <source>The image is damaged and cannot be decoded ({why}).</source>
        <translation>图像已损坏，无法解码（{why}）。</translation>
    </message>
    <message>
        <source>The image has no pixels.</source>
        <translation>图像没有像素。</translation>
    </message>
    <message>
        <source>The image is too large ({width:,} x {height:,} pixels; {limit}). Scale it down or crop it first.</source>
        <translation>图像太大（{width:,} × {height:,} 像素；{limit}）。请先缩小或裁剪。</translation>
    </message>
    <message>
        <source>The file does not exist.</source>
        <translation>文件不存在。</translation>
    </message>
    <message>
        <source>That is a folder, not a file.</source>
        <translation>这是文件夹，不是文件。</translation>
    </message>
    <message>
        <source>The image is empty (0 bytes).</source>
        <translation>图像为空（0 字节）。</translation>
    </message>
    <message>
        <source>The image is too large (its header claims more pixels than that; {limit}). Scale it down or crop it first.</source>
        <translation>图像太大（其文件头声明的像素超过上限；{limit}）。请先缩小或裁剪。</translation>
    </message>
    <message>
        <source>This is not an image file, or its format is not supported.</source>
        <translation>这不是图像文件，或其格式不受支持。</translation>
    </message>
    <message>
        <source>The image is damaged and cannot be opened.</source>
        <translation>图像已损坏，无法打开。</translation>
    </message>
    <message>
        <source>The image is too large to process ({limit}).</source>
        <translation>图像太大，无法处理（{limit}）。</translation>
    </message>
    <message>
        <source>The image file is truncated (incomplete download or copy?).</source>
        <translation>图像文件不完整（可能是下载或复制未完成）。</translation>
    </message>
    <message>
        <source>Not enough memory to decode this image.</source>
        <translation>内存不足，无法解码此图像。</translation>
    </message>
    <message>
        <source>The image has no frame {n}.</source>
        <translation>图像没有第 {n} 帧。</translation>
    </message>
    <message>
        <source>{first} {then}</source>
        <translation>{first}{then}</translation>
    </message>
    <message>
        <source>File not found: {path}</source>
        <translation>找不到文件：{path}</translation>
    </message>
    <message>
        <source>Permission denied: {path}</source>
        <translation>权限不足：{path}</translation>
    </message>
    <message>
        <source>The disk is full. Free some space and try again; nothing was overwritten.</source>
        <translation>磁盘已满。请释放一些空间后重试；没有覆盖任何内容。</translation>
    </message>
    <message>
        <source>Not enough memory for this operation. Try a smaller image or region.</source>
        <translation>内存不足，无法完成此操作。请尝试较小的图像或区域。</translation>
    </message>
    <message>
        <source>The output was closed before everything was written.</source>
        <translation>输出在全部写入之前被关闭。</translation>
    </message>
    <message>
        <source>Something went wrong: {what}. Details are in the log file ({where}).</source>
        <translation>出现问题：{what}。详细信息见日志文件（{where}）。</translation>
    </message>
    <message>
        <source>Something went wrong: {what}.</source>
        <translation>出现问题：{what}。</translation>
    </message>
    <message>
        <source>{context}: {why}</source>
        <translation>{context}：{why}</translation>
    </message>
    <message>
        <source>The engine is not available: {why}</source>
        <translation>引擎不可用：{why}</translation>
    </message>
    <message>
        <source>{why} Starting it again failed: {again}</source>
        <translation>{why}重新启动失败：{again}</translation>
    </message>
    <message>
        <source>Cannot open {name}: {why}</source>
        <translation>无法打开 {name}：{why}</translation>
    </message>
    <message>
        <source>No server address (URL) is set for the remote engine.</source>
        <translation>尚未设置远程引擎的服务器地址（URL）。</translation>
    </message>
    <message>
        <source>Give one with --endpoint URL, or in the engine panel.</source>
        <translation>请在引擎面板中填写，或使用 --endpoint URL 指定。</translation>
    </message>
    <message>
        <source>The CPU OCR engine was stopped.</source>
        <translation>CPU OCR 引擎已停止。</translation>
    </message>
    <message>
        <source>The image could not be read: {why}</source>
        <translation>无法读取图像：{why}</translation>
    </message>
    <message>
        <source>The CPU OCR engine is not installed.</source>
        <translation>未安装 CPU OCR 引擎。</translation>
    </message>
    <message>
        <source>The CPU OCR models could not be loaded.</source>
        <translation>无法加载 CPU OCR 模型。</translation>
    </message>
    <message>
        <source>The CPU engine reads text; it cannot answer questions about an image.</source>
        <translation>CPU 引擎只能识别文字，无法回答关于图像的问题。</translation>
    </message>
    <message>
        <source>Choose the local InternVL3 or a remote server to ask questions.</source>
        <translation>如需提问，请选择本地 InternVL3 或远程服务器。</translation>
    </message>
    <message>
        <source>The CPU engine cannot do the task {task!r}.</source>
        <translation>CPU 引擎无法执行任务 {task!r}。</translation>
    </message>
    <message>
        <source>Choose the local InternVL3 or a remote server for it.</source>
        <translation>请为此选择本地 InternVL3 或远程服务器。</translation>
    </message>
    <message>
        <source>The server could not use the image{where}: {why}</source>
        <translation>服务器无法使用该图像{where}：{why}</translation>
    </message>
    <message>
        <source>Check the image, or try another format.</source>
        <translation>请检查图像，或换一种格式。</translation>
    </message>
    <message>
        <source>The request is too long for the server{where}: {why}</source>
        <translation>请求对服务器来说太长{where}：{why}</translation>
    </message>
    <message>
        <source>Lower the token limit or the detail level, or select a smaller region.</source>
        <translation>请降低令牌上限或细节级别，或选择较小的区域。</translation>
    </message>
    <message>
        <source>The server refused the request{where}: {why}</source>
        <translation>服务器拒绝了请求{where}：{why}</translation>
    </message>
    <message>
        <source>The server refused the API key: {why}</source>
        <translation>服务器拒绝了 API 密钥：{why}</translation>
    </message>
    <message>
        <source>Check the API key in the engine settings.</source>
        <translation>请检查引擎设置中的 API 密钥。</translation>
    </message>
    <message>
        <source>The server forbids this request: {why}</source>
        <translation>服务器禁止此请求：{why}</translation>
    </message>
    <message>
        <source>Check the API key.</source>
        <translation>请检查 API 密钥。</translation>
    </message>
    <message>
        <source>Not found on the server: {why}</source>
        <translation>服务器上找不到：{why}</translation>
    </message>
    <message>
        <source>Check the model name (the server lists its models at /v1/models) and the URL.</source>
        <translation>请检查模型名称（服务器在 /v1/models 列出其模型）和 URL。</translation>
    </message>
    <message>
        <source>The server failed on this request{where}: {why}</source>
        <translation>服务器处理此请求时出错{where}：{why}</translation>
    </message>
    <message>
        <source>The server is not available right now: {why}</source>
        <translation>服务器当前不可用：{why}</translation>
    </message>
    <message>
        <source>Wait until it has started, or check the server.</source>
        <translation>请等待其启动完成，或检查服务器。</translation>
    </message>
    <message>
        <source>Unexpected answer from the server (HTTP {status}): {why}</source>
        <translation>服务器返回了意外的应答（HTTP {status}）：{why}</translation>
    </message>
    <message>
        <source>The server at {url} did not answer in time.</source>
        <translation>位于 {url} 的服务器未能及时应答。</translation>
    </message>
    <message>
        <source>Cannot talk to the server at {url}: {why}</source>
        <translation>无法与位于 {url} 的服务器通信：{why}</translation>
    </message>
    <message>
        <source>{url} does not look like an OpenAI-compatible server (/v1/models is not JSON).</source>
        <translation>{url} 看起来不是 OpenAI 兼容的服务器（/v1/models 返回的不是 JSON）。</translation>
    </message>
    <message>
        <source>The server at {url} serves no model.</source>
        <translation>位于 {url} 的服务器没有提供任何模型。</translation>
    </message>
    <message>
        <source>Cannot connect to the server at {url}.</source>
        <translation>无法连接到位于 {url} 的服务器。</translation>
    </message>
    <message>
        <source>Check that it is running and the URL is right.</source>
        <translation>请确认服务器正在运行且 URL 正确。</translation>
    </message>
    <message>
        <source>It may be overloaded or stuck; raise the time limit (--timeout, now {seconds:g} s) or check the server.</source>
        <translation>服务器可能过载或卡住；请提高时间限制（当前 {seconds:g} 秒，首选项或 --timeout）或检查服务器。</translation>
    </message>
    <message>
        <source>The server stopped sending for {seconds:g} s mid-answer{where}.</source>
        <translation>服务器在回答中途停止发送已达 {seconds:g} 秒{where}。</translation>
    </message>
    <message>
        <source>The server did not start answering within {seconds:g} s{where}.</source>
        <translation>服务器在 {seconds:g} 秒内没有开始回答{where}。</translation>
    </message>
    <message>
        <source>The server at {url} did not accept the connection in time.</source>
        <translation>位于 {url} 的服务器未能及时接受连接。</translation>
    </message>
    <message>
        <source>The server stopped sending for too long{where}.</source>
        <translation>服务器停止发送的时间过长{where}。</translation>
    </message>
    <message>
        <source>The server may be overloaded; try again.</source>
        <translation>服务器可能过载，请重试。</translation>
    </message>
    <message>
        <source>The connection to the server broke mid-answer{where}.</source>
        <translation>与服务器的连接在回答中途断开{where}。</translation>
    </message>
    <message>
        <source>The connection to the server broke{where}.</source>
        <translation>与服务器的连接已断开{where}。</translation>
    </message>
    <message>
        <source>The server may have crashed; see its log.</source>
        <translation>服务器可能已崩溃，请查看其日志。</translation>
    </message>
    <message>
        <source>The server ended the answer without finishing it{where}.</source>
        <translation>服务器未完成回答就结束了{where}。</translation>
    </message>
    <message>
        <source>Cannot export to {what}: choose one of {formats}.</source>
        <translation>无法导出为 {what}：请从 {formats} 中选择一种。</translation>
    </message>
    <message>
        <source>Nothing to export: no part of these results was recognised.</source>
        <translation>没有可导出的内容：这些结果都没有识别成功。</translation>
    </message>
    <message>
        <source>Cannot export into {path}: it is a file, not a folder.</source>
        <translation>无法导出到 {path}：它是文件，不是文件夹。</translation>
    </message>
    <message>
        <source>Cannot create the folder {path}: {why}.</source>
        <translation>无法创建文件夹 {path}：{why}。</translation>
    </message>
    <message>
        <source>Cannot open {name} to copy its pages: {why}</source>
        <translation>无法打开 {name} 以复制其页面：{why}</translation>
    </message>
    <message>
        <source>{name} is encrypted: give its password to export it.</source>
        <translation>{name} 已加密：请提供密码后再导出。</translation>
    </message>
    <message>
        <source>Cannot read {name} to put it in a PDF: {why}</source>
        <translation>无法读取 {name} 以放入 PDF：{why}</translation>
    </message>
    <message>
        <source>{name} has no page {n}.</source>
        <translation>{name} 没有第 {n} 页。</translation>
    </message>
    <message>
        <source>Nothing to put in a PDF: no recognised page.</source>
        <translation>没有可放入 PDF 的内容：没有识别过的页面。</translation>
    </message>
    <message>
        <source>Choose the folder of an InternVL3 &quot;-hf&quot; checkpoint, for example one downloaded with: huggingface-cli download OpenGVLab/InternVL3-1B-hf --local-dir FOLDER.</source>
        <translation>请选择 InternVL3 “-hf” 检查点所在的文件夹，例如用以下命令下载的：huggingface-cli download OpenGVLab/InternVL3-1B-hf --local-dir FOLDER。</translation>
    </message>
    <message>
        <source>Choose a smaller model (InternVL3-1B or 2B), load it in 8 bits (--transformers-8bit, NVIDIA GPUs only), or use fewer tiles (--max-dynamic-patch 6).</source>
        <translation>请选择较小的模型（InternVL3-1B 或 2B），以 8 位加载（--transformers-8bit，仅限 NVIDIA GPU），或使用更少的图块（--max-dynamic-patch 6）。</translation>
    </message>
    <message>
        <source>Download the model again.</source>
        <translation>请重新下载模型。</translation>
    </message>
    <message>
        <source>The transformers worker failed.</source>
        <translation>transformers 工作进程出错。</translation>
    </message>
    <message>
        <source>{model} is neither a folder nor in the local Hugging Face cache, and the transformers engine never downloads while it starts.</source>
        <translation>{model} 既不是文件夹，也不在本地 Hugging Face 缓存中；transformers 引擎启动时从不下载。</translation>
    </message>
    <message>
        <source>Download it first (huggingface-cli download {model}), or give its folder.</source>
        <translation>请先下载（huggingface-cli download {model}），或指定其文件夹。</translation>
    </message>
    <message>
        <source>No model folder is set for the transformers engine.</source>
        <translation>尚未为 transformers 引擎设置模型文件夹。</translation>
    </message>
    <message>
        <source>The model folder {path} does not exist.</source>
        <translation>模型文件夹 {path} 不存在。</translation>
    </message>
    <message>
        <source>{path} is a file, not a model folder.</source>
        <translation>{path} 是文件，不是模型文件夹。</translation>
    </message>
    <message>
        <source>{path} has no config.json: it is not a model folder, or its download is incomplete.</source>
        <translation>{path} 中没有 config.json：它不是模型文件夹，或下载不完整。</translation>
    </message>
    <message>
        <source>The model&apos;s config.json is damaged ({why}).</source>
        <translation>模型的 config.json 已损坏（{why}）。</translation>
    </message>
    <message>
        <source>The model&apos;s config.json is damaged (it is not a JSON object).</source>
        <translation>模型的 config.json 已损坏（不是 JSON 对象）。</translation>
    </message>
    <message>
        <source>{name} is not an InternVL model (its config.json says model_type {type}).</source>
        <translation>{name} 不是 InternVL 模型（其 config.json 中 model_type 为 {type}）。</translation>
    </message>
    <message>
        <source>The model&apos;s config.json lacks its vision or text part.</source>
        <translation>模型的 config.json 缺少视觉或文本部分。</translation>
    </message>
    <message>
        <source>{path} has no weights (*.safetensors): the download is incomplete.</source>
        <translation>{path} 中没有权重文件（*.safetensors）：下载不完整。</translation>
    </message>
    <message>
        <source>The transformers engine was asked for an NVIDIA GPU, but torch sees none (no GPU, no driver, or a CPU-only torch build).</source>
        <translation>已要求 transformers 引擎使用 NVIDIA GPU，但 torch 没有检测到（没有 GPU、没有驱动，或 torch 为仅 CPU 版本）。</translation>
    </message>
    <message>
        <source>Choose the device auto or cpu, or install a CUDA build of torch.</source>
        <translation>请选择设备 auto 或 cpu，或安装 CUDA 版本的 torch。</translation>
    </message>
    <message>
        <source>The transformers engine was asked for the Apple GPU (MPS), which this computer or torch build does not have.</source>
        <translation>已要求 transformers 引擎使用 Apple GPU（MPS），但这台电脑或 torch 版本不支持。</translation>
    </message>
    <message>
        <source>Choose the device auto or cpu.</source>
        <translation>请选择设备 auto 或 cpu。</translation>
    </message>
    <message>
        <source>8-bit weights (bitsandbytes) need an NVIDIA GPU.</source>
        <translation>8 位权重（bitsandbytes）需要 NVIDIA GPU。</translation>
    </message>
    <message>
        <source>Turn 8-bit off, or choose a smaller model.</source>
        <translation>请关闭 8 位，或选择较小的模型。</translation>
    </message>
    <message>
        <source>8-bit weights need the bitsandbytes package, which is not installed.</source>
        <translation>8 位权重需要 bitsandbytes 软件包，但它未安装。</translation>
    </message>
    <message>
        <source>pip install bitsandbytes, or turn 8-bit off.</source>
        <translation>请执行 pip install bitsandbytes，或关闭 8 位。</translation>
    </message>
    <message>
        <source>bfloat16 needs an NVIDIA GPU of compute capability 8.0 (Ampere) or newer.</source>
        <translation>bfloat16 需要计算能力 8.0（Ampere）或更新的 NVIDIA GPU。</translation>
    </message>
    <message>
        <source>Choose the dtype auto or float16.</source>
        <translation>请选择数据类型 auto 或 float16。</translation>
    </message>
    <message>
        <source>No CUDA GPU ({why}): use the CPU engine or a remote server.</source>
        <translation>没有 CUDA GPU（{why}）：请使用 CPU 引擎或远程服务器。</translation>
    </message>
    <message>
        <source>none found</source>
        <translation>未找到</translation>
    </message>
    <message>
        <source>{gpu} (compute capability {cc}) is older than TurboMind supports (7.0): use the CPU engine or a remote server.</source>
        <translation>{gpu}（计算能力 {cc}）低于 TurboMind 支持的最低版本（7.0）：请使用 CPU 引擎或远程服务器。</translation>
    </message>
    <message>
        <source>{gpu} has {free:.1f} GiB free; the smallest model ({model}) needs about {need:.1f} GiB. Close other GPU programs, or use the CPU engine or a remote server.</source>
        <translation>{gpu} 可用 {free:.1f} GiB；最小的模型（{model}）约需 {need:.1f} GiB。请关闭其他使用 GPU 的程序，或使用 CPU 引擎或远程服务器。</translation>
    </message>
    <message>
        <source>{model} needs about {need:.1f} GiB ({weights:.1f} weights + {kv:.1f} KV cache for {tokens} tokens + {runtime:g} runtime); {where} has {free:.1f} GiB free</source>
        <translation>{model} 约需 {need:.1f} GiB（权重 {weights:.1f} + {tokens} 个令牌的 KV 缓存 {kv:.1f} + 运行时 {runtime:g}）；{where} 可用 {free:.1f} GiB</translation>
    </message>
    <message>
        <source>already on disk</source>
        <translation>已在磁盘上</translation>
    </message>
    <message>
        <source>the 16-bit weights (~{need:.0f} GiB) do not fit, AWQ 4-bit does</source>
        <translation>16 位权重（约 {need:.0f} GiB）放不下，AWQ 4 位可以</translation>
    </message>
    <message>
        <source>compute capability below 8.0: float16 instead of bfloat16</source>
        <translation>计算能力低于 8.0：使用 float16 而非 bfloat16</translation>
    </message>
    <message>
        <source>split over {n} GPUs (--tp {n})</source>
        <translation>分布在 {n} 块 GPU 上（--tp {n}）</translation>
    </message>
    <message>
        <source>{first}; {then}</source>
        <translation>{first}；{then}</translation>
    </message>
    <message>
        <source>{reasons}.</source>
        <translation>{reasons}。</translation>
    </message>
    <message>
        <source>Start again: a new free port is picked each time.</source>
        <translation>请重新启动：每次都会选择一个新的空闲端口。</translation>
    </message>
    <message>
        <source>{model} is on disk but incomplete ({why}).</source>
        <translation>{model} 已在磁盘上，但不完整（{why}）。</translation>
    </message>
    <message>
        <source>{model} is not on disk.</source>
        <translation>{model} 不在磁盘上。</translation>
    </message>
    <message>
        <source>Download it in the engine panel (Models…), or run: desktop-ocr models pull {model}</source>
        <translation>请在引擎面板（模型…）中下载，或运行：desktop-ocr models pull {model}</translation>
    </message>
    <message>
        <source>The configured Python does not have lmdeploy installed.</source>
        <translation>所配置的 Python 没有安装 lmdeploy。</translation>
    </message>
    <message>
        <source>pip install &apos;desktop-ocr[gpu]&apos; there, or change the lmdeploy command.</source>
        <translation>请在其中执行 pip install &apos;desktop-ocr[gpu]&apos;，或更改 lmdeploy 命令。</translation>
    </message>
    <message>
        <source>The GPU ran out of memory while loading {model}.</source>
        <translation>加载 {model} 时 GPU 显存不足。</translation>
    </message>
    <message>
        <source>the model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Choose a smaller model (e.g. InternVL3-2B) or an AWQ model, close other GPU programs, or lower the KV cache share (--cache-max-entry-count, now {share:g}).</source>
        <translation>请选择较小的模型（如 InternVL3-2B）或 AWQ 模型，关闭其他使用 GPU 的程序，或降低 KV 缓存占比（--cache-max-entry-count，当前 {share:g}）。</translation>
    </message>
    <message>
        <source>Another program took port {port} while the server was starting.</source>
        <translation>服务器启动期间，另一个程序占用了端口 {port}。</translation>
    </message>
    <message>
        <source>lmdeploy refused its command line{detail}.</source>
        <translation>lmdeploy 拒绝了其命令行{detail}。</translation>
    </message>
    <message>
        <source>Check the engine settings; an older or newer lmdeploy may not know an option (this app expects lmdeploy 0.18).</source>
        <translation>请检查引擎设置；较旧或较新的 lmdeploy 可能不认识某个选项（本应用需要 lmdeploy 0.18）。</translation>
    </message>
    <message>
        <source>The model {model} was not found{detail}.</source>
        <translation>找不到模型 {model}{detail}。</translation>
    </message>
    <message>
        <source>Check the model id or folder. The first start downloads the model from the hub and needs network access.</source>
        <translation>请检查模型 ID 或文件夹。首次启动会从模型库下载模型，需要网络连接。</translation>
    </message>
    <message>
        <source>The server crashed in native GPU code (exit code {code}){detail}.</source>
        <translation>服务器在 GPU 原生代码中崩溃（退出码 {code}）{detail}。</translation>
    </message>
    <message>
        <source>Check that the NVIDIA driver is recent enough for this lmdeploy/CUDA build and the GPU is supported; see the server log.</source>
        <translation>请确认 NVIDIA 驱动足够新、与此 lmdeploy/CUDA 版本匹配，且 GPU 受支持；请查看服务器日志。</translation>
    </message>
    <message>
        <source>The server exited during start (exit code {code}){detail}.</source>
        <translation>服务器在启动期间退出（退出码 {code}）{detail}。</translation>
    </message>
    <message>
        <source>See the server log for details.</source>
        <translation>详细信息请查看服务器日志。</translation>
    </message>
    <message>
        <source>lmdeploy was not found.</source>
        <translation>找不到 lmdeploy。</translation>
    </message>
    <message>
        <source>No model is chosen.</source>
        <translation>尚未选择模型。</translation>
    </message>
    <message>
        <source>Set a model id or folder.</source>
        <translation>请设置模型 ID 或文件夹。</translation>
    </message>
    <message>
        <source>Port {port} is already in use by another program.</source>
        <translation>端口 {port} 已被另一个程序占用。</translation>
    </message>
    <message>
        <source>Choose another port, or leave it empty to pick a free one.</source>
        <translation>请选择其他端口，或留空以自动选择空闲端口。</translation>
    </message>
    <message>
        <source>Cannot run {command}: {why}.</source>
        <translation>无法运行 {command}：{why}。</translation>
    </message>
    <message>
        <source>Check the lmdeploy command in the engine settings.</source>
        <translation>请检查引擎设置中的 lmdeploy 命令。</translation>
    </message>
    <message>
        <source>exit code {code}</source>
        <translation>退出码 {code}</translation>
    </message>
    <message>
        <source>killed by {signal}</source>
        <translation>被 {signal} 终止</translation>
    </message>
    <message>
        <source>The InternVL3 server stopped unexpectedly ({how}): {last}.</source>
        <translation>InternVL3 服务器意外停止（{how}）：{last}。</translation>
    </message>
    <message>
        <source>The InternVL3 server stopped unexpectedly ({how}).</source>
        <translation>InternVL3 服务器意外停止（{how}）。</translation>
    </message>
    <message>
        <source>See the server log{where}; starting the engine again restarts it.</source>
        <translation>请查看服务器日志{where}；再次启动引擎即可重新启动它。</translation>
    </message>
    <message>
        <source>A first start downloads the model; raise the start timeout if the download is slow. See the server log.</source>
        <translation>首次启动会下载模型；如果下载较慢，请提高启动超时。请查看服务器日志。</translation>
    </message>
    <message>
        <source>Multi-GPU (--tp) starts can hang (lmdeploy issue 3993): try one GPU.</source>
        <translation>多 GPU（--tp）启动可能会卡住（lmdeploy 问题 3993）：请尝试只用一块 GPU。</translation>
    </message>
    <message>
        <source>The server did not become ready within {seconds:g} s.</source>
        <translation>服务器在 {seconds:g} 秒内未就绪。</translation>
    </message>
    <message>
        <source>Another server answers on port {port}.</source>
        <translation>端口 {port} 上有另一个服务器在应答。</translation>
    </message>
    <message>
        <source>The InternVL3 server is not running.</source>
        <translation>InternVL3 服务器未运行。</translation>
    </message>
    <message>
        <source>Start the engine first.</source>
        <translation>请先启动引擎。</translation>
    </message>
    <message>
        <source>Unknown download source {source}.</source>
        <translation>未知的下载来源 {source}。</translation>
    </message>
    <message>
        <source>Use hf, modelscope, or a mirror&apos;s URL (https://...).</source>
        <translation>请使用 hf、modelscope 或镜像站的 URL（https://...）。</translation>
    </message>
    <message>
        <source>{file} is missing after the download.</source>
        <translation>下载完成后缺少 {file}。</translation>
    </message>
    <message>
        <source>{file} arrived damaged from ModelScope.</source>
        <translation>从 ModelScope 下载的 {file} 已损坏。</translation>
    </message>
    <message>
        <source>{repo} was not found on {where}.</source>
        <translation>在 {where} 上找不到 {repo}。</translation>
    </message>
    <message>
        <source>Check the name; a mirror may not have every model: try another source.</source>
        <translation>请检查名称；镜像站不一定有所有模型，请尝试其他来源。</translation>
    </message>
    <message>
        <source>The disk filled up while downloading {repo}.</source>
        <translation>下载 {repo} 时磁盘已满。</translation>
    </message>
    <message>
        <source>Free some space, then resume: what was downloaded is kept.</source>
        <translation>请释放一些空间后继续下载：已下载的部分会保留。</translation>
    </message>
    <message>
        <source>Cannot download from {where}: {why}.</source>
        <translation>无法从 {where} 下载：{why}。</translation>
    </message>
    <message>
        <source>Check the network, or choose another source (a mirror URL, or ModelScope); resume continues where it stopped.</source>
        <translation>请检查网络，或选择其他来源（镜像站 URL 或 ModelScope）；继续下载会从中断处接着进行。</translation>
    </message>
    <message>
        <source>{where} refused the download: {why}.</source>
        <translation>{where} 拒绝了下载：{why}。</translation>
    </message>
    <message>
        <source>Try again later, or choose another source.</source>
        <translation>请稍后重试，或选择其他来源。</translation>
    </message>
    <message>
        <source>The download failed: {why}.</source>
        <translation>下载失败：{why}。</translation>
    </message>
    <message>
        <source>{name} has no {source} repository in the catalog.</source>
        <translation>模型目录中 {name} 没有 {source} 仓库。</translation>
    </message>
    <message>
        <source>Choose another source.</source>
        <translation>请选择其他来源。</translation>
    </message>
    <message>
        <source>starting…</source>
        <translation>正在开始…</translation>
    </message>
    <message>
        <source>paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <source>done</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>idle</source>
        <translation>空闲</translation>
    </message>
    <message>
        <source>Resume to fetch it again.</source>
        <translation>请继续下载以重新获取。</translation>
    </message>
    <message>
        <source>{done} of {total}</source>
        <translation>{done} / {total}</translation>
    </message>
    <message>
        <source>checking {file}</source>
        <translation>正在校验 {file}</translation>
    </message>
    <message>
        <source>{time} left</source>
        <translation>剩余 {time}</translation>
    </message>
    <message>
        <source>The download failed.</source>
        <translation>下载失败。</translation>
    </message>
    <message>
        <source>The download process stopped (exit code {code}): {last}.</source>
        <translation>下载进程已停止（退出码 {code}）：{last}。</translation>
    </message>
    <message>
        <source>The download process stopped (exit code {code}).</source>
        <translation>下载进程已停止（退出码 {code}）。</translation>
    </message>
    <message>
        <source>{n:.0f} s</source>
        <translation>{n:.0f} 秒</translation>
    </message>
    <message>
        <source>{n:.0f} min</source>
        <translation>{n:.0f} 分钟</translation>
    </message>
    <message>
        <source>{n:.1f} h</source>
        <translation>{n:.1f} 小时</translation>
    </message>
    <message>
        <source>{device} memory ran out while loading {model}.</source>
        <translation>加载 {model} 时 {device} 内存不足。</translation>
    </message>
    <message>
        <source>Loading {model} needs a package that is missing ({why}).</source>
        <translation>加载 {model} 需要一个缺失的软件包（{why}）。</translation>
    </message>
    <message>
        <source>The weights of {model} do not fit its config.json (their sizes differ): the config or the weights are damaged or mixed up.</source>
        <translation>{model} 的权重与其 config.json 不匹配（尺寸不同）：配置或权重已损坏或混用。</translation>
    </message>
    <message>
        <source>transformers cannot load {model}: {why}</source>
        <translation>transformers 无法加载 {model}：{why}</translation>
    </message>
    <message>
        <source>Check that the folder holds a complete InternVL3 &quot;-hf&quot; checkpoint; download it again if in doubt.</source>
        <translation>请确认该文件夹包含完整的 InternVL3 “-hf” 检查点；如有疑问，请重新下载。</translation>
    </message>
    <message>
        <source>The worker was not told what to load.</source>
        <translation>工作进程没有收到要加载的内容。</translation>
    </message>
    <message>
        <source>Memory ran out while loading the model.</source>
        <translation>加载模型时内存不足。</translation>
    </message>
    <message>
        <source>Loading the model failed: {why}</source>
        <translation>加载模型失败：{why}</translation>
    </message>
    <message>
        <source>{device} memory ran out during this request.</source>
        <translation>处理此请求时 {device} 内存不足。</translation>
    </message>
    <message>
        <source>The model failed on this request: {why}</source>
        <translation>模型处理此请求时出错：{why}</translation>
    </message>
    <message>
        <source>The transformers engine needs {packages}, which this Python does not have.</source>
        <translation>transformers 引擎需要 {packages}，但此 Python 中没有。</translation>
    </message>
    <message>
        <source>killed by signal {n}</source>
        <translation>被信号 {n} 终止</translation>
    </message>
    <message>
        <source>The transformers worker stopped unexpectedly ({how}): {last}.</source>
        <translation>transformers 工作进程意外停止（{how}）：{last}。</translation>
    </message>
    <message>
        <source>The transformers worker stopped unexpectedly ({how}).</source>
        <translation>transformers 工作进程意外停止（{how}）。</translation>
    </message>
    <message>
        <source>See the worker log (a killed worker often ran out of memory: try a smaller model or fewer tiles); start the engine again.</source>
        <translation>请查看工作进程日志（被终止的工作进程通常是内存不足：请尝试较小的模型或更少的图块）；然后再次启动引擎。</translation>
    </message>
    <message>
        <source>See the worker log; start the engine again.</source>
        <translation>请查看工作进程日志；然后再次启动引擎。</translation>
    </message>
</context>
<context>
    <name>Meters</name>
    <message>
        <source>The live meters stopped</source>
        <translation>实时监控已停止</translation>
    </message>
    <message>
        <source>CPU use</source>
        <translation>CPU 占用</translation>
    </message>
    <message>
        <source>Memory use</source>
        <translation>内存占用</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>RAM</source>
        <translation>内存</translation>
    </message>
    <message>
        <source>Measuring…</source>
        <translation>正在测量…</translation>
    </message>
    <message>
        <source>{used} of {total} GiB</source>
        <translation>{used} / {total} GiB</translation>
    </message>
    <message>
        <source>{n} % busy</source>
        <translation>占用 {n}%</translation>
    </message>
    <message>
        <source>{used} of {total} GiB VRAM</source>
        <translation>显存 {used} / {total} GiB</translation>
    </message>
    <message>
        <source>No NVIDIA GPU to measure.</source>
        <translation>没有可监控的 NVIDIA 显卡。</translation>
    </message>
    <message>
        <source>Busy</source>
        <translation>占用</translation>
    </message>
    <message>
        <source>VRAM</source>
        <translation>显存</translation>
    </message>
    <message>
        <source>GPU use</source>
        <translation>显卡占用</translation>
    </message>
    <message>
        <source>GPU memory use</source>
        <translation>显存占用</translation>
    </message>
</context>
<context>
    <name>ModelManager</name>
    <message>
        <source>A Hugging Face mirror (URL)</source>
        <translation>Hugging Face 镜像（网址）</translation>
    </message>
    <message>
        <source>ModelScope (魔搭)</source>
        <translation>ModelScope（魔搭）</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Family</source>
        <translation>系列</translation>
    </message>
    <message>
        <source>Download</source>
        <translation>下载</translation>
    </message>
    <message>
        <source>VRAM needed</source>
        <translation>所需显存</translation>
    </message>
    <message>
        <source>Engine</source>
        <translation>引擎</translation>
    </message>
    <message>
        <source>Licence</source>
        <translation>许可证</translation>
    </message>
    <message>
        <source>On this computer</source>
        <translation>本机状态</translation>
    </message>
    <message>
        <source>{name} is downloaded and ready to use.</source>
        <translation>{name} 已下载完成，可以使用了。</translation>
    </message>
    <message>
        <source>Downloading {name} failed: {why}</source>
        <translation>下载 {name} 失败：{why}</translation>
    </message>
    <message>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Download &amp;from</source>
        <translation>下载来源(&amp;F)</translation>
    </message>
    <message>
        <source>Download from</source>
        <translation>下载来源</translation>
    </message>
    <message>
        <source>Mirror address</source>
        <translation>镜像地址</translation>
    </message>
    <message>
        <source>Download progress</source>
        <translation>下载进度</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Cancel download</source>
        <translation>取消下载</translation>
    </message>
    <message>
        <source>Delete from disk</source>
        <translation>从磁盘删除</translation>
    </message>
    <message>
        <source>Add folder…</source>
        <translation>添加文件夹…</translation>
    </message>
    <message>
        <source>A folder that holds models (or is one), e.g. downloaded by hand</source>
        <translation>包含模型的文件夹（或模型文件夹本身），例如手动下载的模型</translation>
    </message>
    <message>
        <source>Open folder</source>
        <translation>打开文件夹</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Reading the models folder failed</source>
        <translation>读取模型文件夹失败</translation>
    </message>
    <message>
        <source>Models are downloaded to {folder} ({free} free there). Models in the Hugging Face and ModelScope caches and in added folders are found too.</source>
        <translation>模型会下载到 {folder}（剩余空间 {free}）。Hugging Face 和 ModelScope 缓存以及添加的文件夹中的模型也会被找到。</translation>
    </message>
    <message>
        <source>  ★ advised</source>
        <translation>  ★ 推荐</translation>
    </message>
    <message>
        <source> (check the card)</source>
        <translation>（请查看模型卡）</translation>
    </message>
    <message>
        <source>downloading: {what}</source>
        <translation>正在下载：{what}</translation>
    </message>
    <message>
        <source>failed: {what}</source>
        <translation>失败：{what}</translation>
    </message>
    <message>
        <source>{size} in {path} ({where})</source>
        <translation>{size}，位于 {path}（{where}）</translation>
    </message>
    <message>
        <source>download stopped at {n} % ({size}): Download resumes it</source>
        <translation>下载停在 {n}%（{size}）：点击“下载”即可继续</translation>
    </message>
    <message>
        <source>incomplete: {problem} ({path})</source>
        <translation>不完整：{problem}（{path}）</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Enter the mirror&apos;s address first (e.g. https://hf-mirror.com).</source>
        <translation>请先填写镜像地址（例如 https://hf-mirror.com）。</translation>
    </message>
    <message>
        <source>{name} needs about {need} more; {folder} has {free} free. Free some space first.</source>
        <translation>{name} 还需要约 {need} 的空间，{folder} 只剩 {free}。请先清理一些空间。</translation>
    </message>
    <message>
        <source>Starting the download of {name} failed</source>
        <translation>开始下载 {name} 失败</translation>
    </message>
    <message>
        <source>Click again to delete {size}</source>
        <translation>再次点击将删除 {size}</translation>
    </message>
    <message>
        <source>A folder with models</source>
        <translation>包含模型的文件夹</translation>
    </message>
</context>
<context>
    <name>Names</name>
    <message>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>CPU (RapidOCR)</source>
        <translation>CPU（RapidOCR）</translation>
    </message>
    <message>
        <source>InternVL3 (local LMDeploy)</source>
        <translation>InternVL3（本地 LMDeploy）</translation>
    </message>
    <message>
        <source>InternVL3 (transformers)</source>
        <translation>InternVL3（transformers）</translation>
    </message>
    <message>
        <source>Remote server</source>
        <translation>远程服务器</translation>
    </message>
    <message>
        <source>Excel workbook</source>
        <translation>Excel 工作簿</translation>
    </message>
    <message>
        <source>CSV</source>
        <translation>CSV</translation>
    </message>
    <message>
        <source>Tab-separated values</source>
        <translation>制表符分隔值</translation>
    </message>
    <message>
        <source>Markdown</source>
        <translation>Markdown</translation>
    </message>
    <message>
        <source>HTML</source>
        <translation>HTML</translation>
    </message>
    <message>
        <source>Text</source>
        <translation>纯文本</translation>
    </message>
    <message>
        <source>JSON</source>
        <translation>JSON</translation>
    </message>
    <message>
        <source>Word document</source>
        <translation>Word 文档</translation>
    </message>
    <message>
        <source>Searchable PDF</source>
        <translation>可搜索的 PDF</translation>
    </message>
    <message>
        <source>Region {n}</source>
        <translation>区域 {n}</translation>
    </message>
    <message>
        <source>page {n}</source>
        <translation>第 {n} 页</translation>
    </message>
    <message>
        <source>, </source>
        <translation>，</translation>
    </message>
</context>
<context>
    <name>Notices</name>
    <message>
        <source>Details</source>
        <translation>详细信息</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Notice</source>
        <translation>通知</translation>
    </message>
    <message>
        <source>Details…</source>
        <translation>详细信息…</translation>
    </message>
    <message>
        <source>What exactly happened (for a bug report)</source>
        <translation>具体发生了什么（可用于报告问题）</translation>
    </message>
    <message>
        <source>Dismiss</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>+{n} more</source>
        <translation>还有 {n} 条</translation>
    </message>
    <message>
        <source>Show the older notices too</source>
        <translation>同时显示较早的通知</translation>
    </message>
    <message>
        <source>Show fewer</source>
        <translation>收起</translation>
    </message>
    <message>
        <source>More notices</source>
        <translation>更多通知</translation>
    </message>
</context>
<context>
    <name>PageView</name>
    <message>
        <source>Page</source>
        <translation>页面</translation>
    </message>
    <message>
        <source>Drag to mark a region; Ctrl+wheel zooms</source>
        <translation>拖动鼠标标出区域；Ctrl+滚轮缩放</translation>
    </message>
    <message>
        <source>Page {n} cannot be shown: {error}</source>
        <translation>无法显示第 {n} 页：{error}</translation>
    </message>
</context>
<context>
    <name>PasswordDialog</name>
    <message>
        <source>Password needed</source>
        <translation>需要密码</translation>
    </message>
    <message>
        <source>The password is wrong; {name} did not open. Try again.</source>
        <translation>密码错误，{name} 未能打开。请重试。</translation>
    </message>
    <message>
        <source>{name} is protected by a password.</source>
        <translation>{name} 受密码保护。</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>密码</translation>
    </message>
</context>
<context>
    <name>Preferences</name>
    <message>
        <source>Preferences</source>
        <translation>首选项</translation>
    </message>
    <message>
        <source>General</source>
        <translation>常规</translation>
    </message>
    <message>
        <source>Engine</source>
        <translation>引擎</translation>
    </message>
    <message>
        <source>Memory and history</source>
        <translation>内存与历史记录</translation>
    </message>
    <message>
        <source>Put every field back to its default (nothing changes until OK)</source>
        <translation>把所有选项恢复为默认值（点击“确定”后才会生效）</translation>
    </message>
    <message>
        <source>System</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>The window&apos;s language and the language of the prompts; a change shows after a restart</source>
        <translation>界面语言以及提示词的语言；修改后重启生效</translation>
    </message>
    <message>
        <source>&amp;Theme</source>
        <translation>主题(&amp;T)</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <source>System follows the desktop&apos;s light or dark look</source>
        <translation>“跟随系统”会随桌面的浅色或深色外观变化</translation>
    </message>
    <message>
        <source>Default &amp;task</source>
        <translation>默认任务(&amp;T)</translation>
    </message>
    <message>
        <source>What a new recognition extracts (the toolbar changes it too)</source>
        <translation>新的识别要提取的内容（也可以在工具栏中修改）</translation>
    </message>
    <message>
        <source>Recognise all pages: use a PDF page&apos;s own text where it has some</source>
        <translation>识别所有页面时：页面自带文字就直接使用 PDF 的文字</translation>
    </message>
    <message>
        <source>Put the text of snips and pasted images on the clipboard automatically</source>
        <translation>截图和粘贴图片的识别结果自动复制到剪贴板</translation>
    </message>
    <message>
        <source>Watch the clipboard and recognise every new image</source>
        <translation>监听剪贴板，自动识别每张新图片</translation>
    </message>
    <message>
        <source>Keep running in the tray when the window closes</source>
        <translation>关闭窗口时最小化到托盘继续运行</translation>
    </message>
    <message>
        <source>&amp;Engine</source>
        <translation>引擎(&amp;E)</translation>
    </message>
    <message>
        <source>Automatic takes a model on this computer&apos;s GPU when one can run, else the CPU</source>
        <translation>“自动”会在本机显卡能运行模型时使用模型，否则使用 CPU</translation>
    </message>
    <message>
        <source>Automatic (from the free GPU memory)</source>
        <translation>自动（按空闲显存选择）</translation>
    </message>
    <message>
        <source>&amp;Model</source>
        <translation>模型(&amp;M)</translation>
    </message>
    <message>
        <source>A catalog name, a hub id that is on disk, or a model folder</source>
        <translation>模型目录中的名称、已在本机的模型仓库 ID，或模型文件夹</translation>
    </message>
    <message>
        <source>Time &amp;limit</source>
        <translation>超时时间(&amp;L)</translation>
    </message>
    <message>
        <source> s</source>
        <translation> 秒</translation>
    </message>
    <message>
        <source>The longest wait for a server&apos;s first word, and between two words</source>
        <translation>等待服务器返回第一个字、以及两个字之间的最长时间</translation>
    </message>
    <message>
        <source>&amp;Start time limit</source>
        <translation>启动超时时间(&amp;S)</translation>
    </message>
    <message>
        <source>How long a local model may take to load</source>
        <translation>本地模型加载所允许的最长时间</translation>
    </message>
    <message>
        <source>Requests at &amp;once</source>
        <translation>同时请求数(&amp;O)</translation>
    </message>
    <message>
        <source>How many regions or pages a server reads at the same time</source>
        <translation>服务器同时识别的区域或页面数</translation>
    </message>
    <message>
        <source>Start the engine again once if it stops during a batch</source>
        <translation>批量识别中引擎意外停止时，自动重启一次</translation>
    </message>
    <message>
        <source>Remote server</source>
        <translation>远程服务器</translation>
    </message>
    <message>
        <source>&amp;Address</source>
        <translation>地址(&amp;A)</translation>
    </message>
    <message>
        <source>API &amp;key</source>
        <translation>API 密钥(&amp;K)</translation>
    </message>
    <message>
        <source>On this computer</source>
        <translation>本机</translation>
    </message>
    <message>
        <source>lmdeploy &amp;program</source>
        <translation>lmdeploy 程序(&amp;P)</translation>
    </message>
    <message>
        <source>An lmdeploy executable, or a Python that has lmdeploy</source>
        <translation>lmdeploy 可执行文件，或装有 lmdeploy 的 Python</translation>
    </message>
    <message>
        <source>found automatically</source>
        <translation>自动查找</translation>
    </message>
    <message>
        <source>Session length</source>
        <translation>会话长度</translation>
    </message>
    <message>
        <source>Tokens of one request, image included (LMDeploy --session-len)</source>
        <translation>单次请求的 token 数，包括图片（LMDeploy --session-len）</translation>
    </message>
    <message>
        <source>GPU memory for the cache</source>
        <translation>缓存占用的显存</translation>
    </message>
    <message>
        <source>Share of the free GPU memory LMDeploy keeps for its cache</source>
        <translation>LMDeploy 用作缓存的空闲显存比例</translation>
    </message>
    <message>
        <source>GPUs per model</source>
        <translation>每个模型使用的显卡数</translation>
    </message>
    <message>
        <source>Tensor parallel (LMDeploy --tp)</source>
        <translation>张量并行（LMDeploy --tp）</translation>
    </message>
    <message>
        <source>folder of an InternVL3 -hf model</source>
        <translation>InternVL3 -hf 模型所在文件夹</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <source>Choose the transformers model folder</source>
        <translation>选择 transformers 模型文件夹</translation>
    </message>
    <message>
        <source>transformers model folder</source>
        <translation>transformers 模型文件夹</translation>
    </message>
    <message>
        <source>transformers &amp;folder</source>
        <translation>transformers 文件夹(&amp;F)</translation>
    </message>
    <message>
        <source>transformers device</source>
        <translation>transformers 设备</translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>transformers: load the weights in 8 bits (NVIDIA GPUs)</source>
        <translation>transformers：以 8 位加载权重（NVIDIA 显卡）</translation>
    </message>
    <message>
        <source>Rendered &amp;pages</source>
        <translation>页面缓存(&amp;P)</translation>
    </message>
    <message>
        <source> MiB</source>
        <translation> MiB</translation>
    </message>
    <message>
        <source>Memory for the pages of the open document already drawn</source>
        <translation>为已打开文档中已渲染的页面保留的内存</translation>
    </message>
    <message>
        <source>&amp;Keep results</source>
        <translation>保留结果(&amp;K)</translation>
    </message>
    <message>
        <source> days</source>
        <translation> 天</translation>
    </message>
    <message>
        <source>Forever</source>
        <translation>永久</translation>
    </message>
    <message>
        <source>Results older than this are deleted from History</source>
        <translation>超过这个时间的结果会从历史记录中删除</translation>
    </message>
    <message>
        <source>&amp;Most results kept</source>
        <translation>最多保留结果数(&amp;M)</translation>
    </message>
    <message>
        <source>No limit</source>
        <translation>不限</translation>
    </message>
    <message>
        <source>The oldest go first when History holds more</source>
        <translation>历史记录超出时，最早的结果先被删除</translation>
    </message>
    <message>
        <source>Folder of an InternVL3 -hf model</source>
        <translation>InternVL3 -hf 模型所在文件夹</translation>
    </message>
</context>
<context>
    <name>PromptBar</name>
    <message>
        <source>Custom &amp;prompt:</source>
        <translation>自定义提示词(&amp;P)：</translation>
    </message>
    <message>
        <source>Prompts you saved</source>
        <translation>已保存的提示词</translation>
    </message>
    <message>
        <source>Saved prompts</source>
        <translation>已保存的提示词</translation>
    </message>
    <message>
        <source>Save…</source>
        <translation>保存…</translation>
    </message>
    <message>
        <source>Keep this prompt under a name</source>
        <translation>给这个提示词起个名字保存下来</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Forget the chosen saved prompt</source>
        <translation>删除选中的已保存提示词</translation>
    </message>
    <message>
        <source>Ask anything about the image, e.g. “List every date on this page, one per line.”</source>
        <translation>可以就图片提任何问题，例如“列出这一页上的所有日期，每行一个。”</translation>
    </message>
    <message>
        <source>Custom prompt</source>
        <translation>自定义提示词</translation>
    </message>
    <message>
        <source>(saved prompts)</source>
        <translation>（已保存的提示词）</translation>
    </message>
    <message>
        <source>(none saved yet)</source>
        <translation>（尚未保存）</translation>
    </message>
    <message>
        <source>Save prompt</source>
        <translation>保存提示词</translation>
    </message>
    <message>
        <source>Name:</source>
        <translation>名称：</translation>
    </message>
</context>
<context>
    <name>RegionPanel</name>
    <message>
        <source>Task of the region</source>
        <translation>区域的任务</translation>
    </message>
    <message>
        <source>Move the region earlier in the reading order</source>
        <translation>在阅读顺序中前移该区域</translation>
    </message>
    <message>
        <source>Move the region later in the reading order</source>
        <translation>在阅读顺序中后移该区域</translation>
    </message>
    <message>
        <source>Number the regions in reading order again</source>
        <translation>按阅读顺序重新编号</translation>
    </message>
    <message>
        <source>Delete the region (Del)</source>
        <translation>删除区域（Del）</translation>
    </message>
    <message>
        <source>Regions</source>
        <translation>区域</translation>
    </message>
    <message>
        <source>Regions: none — the whole page is recognised. Drag on the page to mark one.</source>
        <translation>区域：无 — 将识别整页。在页面上拖动即可标出区域。</translation>
    </message>
    <message>
        <source>Regions: {n}, recognised in your order.</source>
        <translation>区域：{n} 个，按你设定的顺序识别。</translation>
    </message>
    <message>
        <source>Regions: {n}, recognised in reading order.</source>
        <translation>区域：{n} 个，按阅读顺序识别。</translation>
    </message>
</context>
<context>
    <name>Regions</name>
    <message>
        <source>Document task</source>
        <translation>文档任务</translation>
    </message>
    <message>
        <source>Region</source>
        <translation>区域</translation>
    </message>
    <message>
        <source>Task</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>x {x}, y {y}, {w} × {h} of the page</source>
        <translation>x {x}，y {y}，占页面 {w} × {h}</translation>
    </message>
</context>
<context>
    <name>ResultExtras</name>
    <message>
        <source>Doubtful words</source>
        <translation>存疑字词</translation>
    </message>
    <message>
        <source>Codes found</source>
        <translation>找到的条码</translation>
    </message>
    <message>
        <source>Checking the words with the CPU engine…</source>
        <translation>正在用 CPU 引擎核对文字…</translation>
    </message>
    <message>
        <source>The CPU engine reads the same image again to find words worth a second look</source>
        <translation>CPU 引擎正在再读一遍同一张图像，找出值得再看一眼的字词</translation>
    </message>
    <message>
        <source>Words the CPU engine read otherwise are underlined in amber</source>
        <translation>CPU 引擎读法不同的字词以琥珀色下划线标出</translation>
    </message>
    <message>
        <source>The CPU engine read every word alike</source>
        <translation>CPU 引擎对每个字词的读法都相同</translation>
    </message>
    <message>
        <source>— hover an underlined word for the CPU engine&apos;s reading</source>
        <translation>— 将鼠标悬停在带下划线的字词上可查看 CPU 引擎的读法</translation>
    </message>
</context>
<context>
    <name>ResultView</name>
    <message>
        <source>Recognised text appears here.</source>
        <translation>识别出的文字会显示在这里。</translation>
    </message>
</context>
<context>
    <name>Runs</name>
    <message>
        <source>Recognising {what} failed</source>
        <translation>识别 {what} 失败</translation>
    </message>
    <message>
        <source>Starting it again…</source>
        <translation>正在重新启动…</translation>
    </message>
</context>
<context>
    <name>ShortcutsDialog</name>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>键盘快捷键</translation>
    </message>
    <message>
        <source>Find a command…</source>
        <translation>查找命令…</translation>
    </message>
    <message>
        <source>Find a command</source>
        <translation>查找命令</translation>
    </message>
    <message>
        <source>Command</source>
        <translation>命令</translation>
    </message>
    <message>
        <source>Keys</source>
        <translation>快捷键</translation>
    </message>
    <message>
        <source>Menu</source>
        <translation>菜单</translation>
    </message>
    <message>
        <source>Commands and their keys</source>
        <translation>命令及其快捷键</translation>
    </message>
</context>
<context>
    <name>TableView</name>
    <message>
        <source>Table {n}</source>
        <translation>表格 {n}</translation>
    </message>
    <message>
        <source>Edit {cell}</source>
        <translation>编辑 {cell}</translation>
    </message>
    <message>
        <source>Clear cells</source>
        <translation>清空单元格</translation>
    </message>
    <message>
        <source>Insert 1 row</source>
        <translation>插入 1 行</translation>
    </message>
    <message>
        <source>Insert {n} rows</source>
        <translation>插入 {n} 行</translation>
    </message>
    <message>
        <source>Delete 1 row</source>
        <translation>删除 1 行</translation>
    </message>
    <message>
        <source>Delete {n} rows</source>
        <translation>删除 {n} 行</translation>
    </message>
    <message>
        <source>Insert 1 column</source>
        <translation>插入 1 列</translation>
    </message>
    <message>
        <source>Insert {n} columns</source>
        <translation>插入 {n} 列</translation>
    </message>
    <message>
        <source>Delete 1 column</source>
        <translation>删除 1 列</translation>
    </message>
    <message>
        <source>Delete {n} columns</source>
        <translation>删除 {n} 列</translation>
    </message>
    <message>
        <source>Merge cells</source>
        <translation>合并单元格</translation>
    </message>
    <message>
        <source>Split cell</source>
        <translation>拆分单元格</translation>
    </message>
    <message>
        <source>Header rows</source>
        <translation>表头行</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <source>Undo the last change to this table</source>
        <translation>撤销对这个表格的上一次修改</translation>
    </message>
    <message>
        <source>Redo</source>
        <translation>重做</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Copy the selected cells; they paste as a table into a spreadsheet</source>
        <translation>复制选中的单元格；粘贴到电子表格中仍是表格</translation>
    </message>
    <message>
        <source>Insert row above</source>
        <translation>在上方插入行</translation>
    </message>
    <message>
        <source>Insert a row above the selection</source>
        <translation>在所选内容上方插入一行</translation>
    </message>
    <message>
        <source>Insert row below</source>
        <translation>在下方插入行</translation>
    </message>
    <message>
        <source>Insert a row below the selection</source>
        <translation>在所选内容下方插入一行</translation>
    </message>
    <message>
        <source>Delete row</source>
        <translation>删除行</translation>
    </message>
    <message>
        <source>Delete the selected rows</source>
        <translation>删除选中的行</translation>
    </message>
    <message>
        <source>Insert column left</source>
        <translation>在左侧插入列</translation>
    </message>
    <message>
        <source>Insert a column left of the selection</source>
        <translation>在所选内容左侧插入一列</translation>
    </message>
    <message>
        <source>Insert column right</source>
        <translation>在右侧插入列</translation>
    </message>
    <message>
        <source>Insert a column right of the selection</source>
        <translation>在所选内容右侧插入一列</translation>
    </message>
    <message>
        <source>Delete column</source>
        <translation>删除列</translation>
    </message>
    <message>
        <source>Delete the selected columns</source>
        <translation>删除选中的列</translation>
    </message>
    <message>
        <source>Merge the selected cells into one</source>
        <translation>把选中的单元格合并为一个</translation>
    </message>
    <message>
        <source>Split the merged cells in the selection</source>
        <translation>拆分所选内容中的合并单元格</translation>
    </message>
    <message>
        <source>Header rows down to here</source>
        <translation>表头行到此为止</translation>
    </message>
    <message>
        <source>Make the rows down to this one the table&apos;s header (bold)</source>
        <translation>把这一行及以上设为表头（加粗）</translation>
    </message>
    <message>
        <source>Empty the selected cells</source>
        <translation>清空选中的单元格</translation>
    </message>
    <message>
        <source>+Row</source>
        <translation>+行</translation>
    </message>
    <message>
        <source>−Row</source>
        <translation>−行</translation>
    </message>
    <message>
        <source>+Col</source>
        <translation>+列</translation>
    </message>
    <message>
        <source>−Col</source>
        <translation>−列</translation>
    </message>
    <message>
        <source>Merge</source>
        <translation>合并</translation>
    </message>
    <message>
        <source>Split</source>
        <translation>拆分</translation>
    </message>
    <message>
        <source>Undo {what}</source>
        <translation>撤销{what}</translation>
    </message>
    <message>
        <source>Redo {what}</source>
        <translation>重做{what}</translation>
    </message>
    <message>
        <source>Delete rows</source>
        <translation>删除行</translation>
    </message>
    <message>
        <source>Delete columns</source>
        <translation>删除列</translation>
    </message>
    <message>
        <source>Split cells</source>
        <translation>拆分单元格</translation>
    </message>
    <message>
        <source>Tables in the answer appear here as an editable grid.</source>
        <translation>回答中的表格会以可编辑的表格形式显示在这里。</translation>
    </message>
    <message>
        <source>Table</source>
        <translation>表格</translation>
    </message>
    <message>
        <source>{source} — table {n}</source>
        <translation>{source} — 表格 {n}</translation>
    </message>
</context>
<context>
    <name>TextLayerBanner</name>
    <message>
        <source>This page has its own text in the PDF: no OCR needed. Recognise (Ctrl+R) still runs OCR if you prefer.</source>
        <translation>这一页在 PDF 中自带文字，无需 OCR。如果仍想识别，可按“识别”（Ctrl+R）。</translation>
    </message>
    <message>
        <source>Use the PDF&apos;s text</source>
        <translation>使用 PDF 文字</translation>
    </message>
    <message>
        <source>Take this page&apos;s text from the PDF itself, without OCR (Ctrl+Shift+T)</source>
        <translation>直接取用 PDF 中这一页的文字，不做 OCR（Ctrl+Shift+T）</translation>
    </message>
</context>
<context>
    <name>Thumbnails</name>
    <message>
        <source>Page {n} (recognised)</source>
        <translation>第 {n} 页（已识别）</translation>
    </message>
    <message>
        <source>Page {n}</source>
        <translation>第 {n} 页</translation>
    </message>
    <message>
        <source>Pages</source>
        <translation>页面</translation>
    </message>
</context>
</TS>
